#ifndef CLIBBPF_SHIM_H
#define CLIBBPF_SHIM_H

#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <unistd.h>
#include <sys/syscall.h>

/* Glibc's Swift overlay does not export setns(2) (it needs _GNU_SOURCE);
 * call the syscall directly. nstype 0x40000000 = CLONE_NEWNET. */
static inline int clibbpf_setns(int fd, int nstype) {
    return (int)syscall(SYS_setns, fd, nstype);
}
#define CLIBBPF_CLONE_NEWNET 0x40000000

#endif
