/* The physical floors under a replicated commit on this machine, measured the way the
 * cluster pays them:
 *   - fdatasync of a small write: a 4 KiB block overwritten in a preallocated file, then
 *     fdatasync (a Raft log append is one such write on each member);
 *   - O_DIRECT|O_DSYNC write of a 4 KiB block, which is how raft_uv writes its segments;
 *   - loopback TCP round trip: 64 bytes each way with TCP_NODELAY between two processes
 *     (the leader's AppendEntries and the follower's answer).
 *
 * Usage: floor DIR [ROUNDS]. Prints one line per figure: "name p50_us p99_us".
 * Each figure is the median and 99th percentile over ROUNDS (default 2000) operations. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define FILE_BLOCKS 4096 /* 16 MiB: no block is written twice in a run */
#define PING 64

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, uint64_t *ns, int n)
{
    qsort(ns, (size_t)n, sizeof(*ns), by_value);
    printf("%s %.1f %.1f\n", name, (double)ns[n / 2] / 1000.0,
           (double)ns[(n * 99) / 100] / 1000.0);
    fflush(stdout);
}

static void die(const char *what, const char *subject)
{
    fprintf(stderr, "floor: %s '%s': %s\n", what, subject, strerror(errno));
    exit(1);
}

/* A file of FILE_BLOCKS zeroed and synced blocks, so that later writes change no size or
 * extent metadata: what is left is the data write and the device flush. */
static int prepared_file(const char *path, int flags, void *block)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        die("create", path);
    }
    memset(block, 0, BLOCK);
    for (int i = 0; i < FILE_BLOCKS; i++) {
        if (pwrite(fd, block, BLOCK, (off_t)i * BLOCK) != BLOCK) {
            die("fill", path);
        }
    }
    if (fsync(fd) != 0) {
        die("sync", path);
    }
    close(fd);
    fd = open(path, O_RDWR | flags);
    if (fd < 0) {
        die("reopen", path);
    }
    return fd;
}

static void disk(const char *dir, int rounds, uint64_t *ns)
{
    char path[4096];
    void *block;
    snprintf(path, sizeof(path), "%s/floor.dat", dir);
    if (posix_memalign(&block, BLOCK, BLOCK) != 0) {
        die("allocate", "block");
    }
    int fd = prepared_file(path, 0, block);
    memset(block, 'x', BLOCK);
    for (int i = 0; i < rounds; i++) {
        uint64_t t = now_ns();
        if (pwrite(fd, block, BLOCK, (off_t)(i % FILE_BLOCKS) * BLOCK) != BLOCK ||
            fdatasync(fd) != 0) {
            die("write and fdatasync", path);
        }
        ns[i] = now_ns() - t;
    }
    close(fd);
    report("fdatasync_4k", ns, rounds);

    fd = prepared_file(path, O_DIRECT | O_DSYNC, block);
    memset(block, 'y', BLOCK);
    for (int i = 0; i < rounds; i++) {
        uint64_t t = now_ns();
        if (pwrite(fd, block, BLOCK, (off_t)(i % FILE_BLOCKS) * BLOCK) != BLOCK) {
            die("O_DIRECT|O_DSYNC write", path);
        }
        ns[i] = now_ns() - t;
    }
    close(fd);
    unlink(path);
    free(block);
    report("odirect_dsync_4k", ns, rounds);
}

static void exact(int fd, void *buf, size_t len, int writing)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = writing ? write(fd, (char *)buf + done, len - done)
                            : read(fd, (char *)buf + done, len - done);
        if (n <= 0) {
            die(writing ? "send" : "receive", "loopback");
        }
        done += (size_t)n;
    }
}

static void loopback(int rounds, uint64_t *ns)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(addr);
    int one = 1, lfd = socket(AF_INET, SOCK_STREAM, 0);
    char buf[PING] = {0};
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(lfd, 1) != 0 || getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0) {
        die("listen", "127.0.0.1");
    }
    pid_t child = fork();
    if (child == 0) {
        int fd = accept(lfd, NULL, NULL);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        for (int i = 0; i < rounds + 100; i++) {
            exact(fd, buf, PING, 0);
            exact(fd, buf, PING, 1);
        }
        _exit(0);
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        die("connect", "127.0.0.1");
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    for (int i = 0; i < rounds + 100; i++) {
        uint64_t t = now_ns();
        exact(fd, buf, PING, 1);
        exact(fd, buf, PING, 0);
        if (i >= 100) { /* the first hundred warm the path up */
            ns[i - 100] = now_ns() - t;
        }
    }
    close(fd);
    close(lfd);
    waitpid(child, NULL, 0);
    report("loopback_rtt", ns, rounds);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: floor DIR [ROUNDS]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 2000;
    if (rounds < 100 || rounds > 1000000) {
        fprintf(stderr, "floor: ROUNDS must be 100..1000000\n");
        return 2;
    }
    uint64_t *ns = calloc((size_t)rounds, sizeof(*ns));
    if (ns == NULL) {
        die("allocate", "samples");
    }
    disk(argv[1], rounds, ns);
    loopback(rounds, ns);
    free(ns);
    return 0;
}
