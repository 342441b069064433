/* Linux I/O headers Glibc's Swift overlay leaves out: epoll, for the HTTP probe's reactor. */
#include <sys/epoll.h>
#include <fcntl.h>
#include <unistd.h>

static inline int clinuxio_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
