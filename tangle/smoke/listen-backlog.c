/* Preloaded into QEMU by the smoke runner when a boot has a forwarded port (chapter W.6).
 *
 * libslirp listens on a hostfwd port with a backlog of 1, so the host kernel queues at most two
 * connections QEMU has not accepted yet. QEMU accepts one per turn of its main loop, and on a
 * loaded machine that loop can miss a turn for longer than it takes sixteen host clients to
 * connect: the kernel then drops the SYN (or the handshake's last ACK), and the client waits
 * one to several seconds to retransmit. This raises every backlog below BACKLOG_MIN to it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>

#define BACKLOG_MIN 128

int listen(int fd, int backlog) {
    static int (*real)(int, int);
    if (!real) real = (int (*)(int, int))dlsym(RTLD_NEXT, "listen");
    if (!real) return -1;
    return real(fd, backlog < BACKLOG_MIN ? BACKLOG_MIN : backlog);
}
