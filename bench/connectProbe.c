// Connection setup timing for bench/serviceLb.ts, built with the system
// compiler into the run's temp dir at run time (a C client keeps the
// per-connection overhead small and the same for every variant).
//   connectProbe server <port>                 accept and close TCP connections on 0.0.0.0:<port>; prints "ready"
//   connectProbe client <addr> <port> <count>  <count> sequential connect()+close(); prints one JSON line:
//     {"connections":N,"failed":F,"firstError":"...","p50Ns":..,"p99Ns":..,"meanNs":..,"perSecond":..,"peer":"a.b.c.d:p"}
// Each connection is closed with SO_LINGER 0 (RST), so no TIME_WAIT piles up on either side.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int serve(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_ANY)};
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
      listen(fd, 4096) < 0) {
    fprintf(stderr, "server: %s\n", strerror(errno));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c >= 0) close(c);
  }
}

static int client(const char *address, int port, long count) {
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, address, &addr.sin_addr) != 1 || count <= 0) {
    fprintf(stderr, "client: bad address '%s' or count %ld\n", address, count);
    return 2;
  }
  uint64_t *samples = calloc((size_t)count, sizeof *samples);
  if (!samples) return 2;
  struct linger rst = {.l_onoff = 1, .l_linger = 0};
  long ok = 0, failed = 0;
  char first_error[128] = "";
  char peer[64] = "";
  uint64_t start = now_ns();
  for (long i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      fprintf(stderr, "socket: %s\n", strerror(errno));
      return 2;
    }
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof rst);
    uint64_t t0 = now_ns();
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    uint64_t t1 = now_ns();
    if (rc == 0) {
      samples[ok++] = t1 - t0;
      if (peer[0] == 0) {
        struct sockaddr_in p;
        socklen_t len = sizeof p;
        char text[INET_ADDRSTRLEN] = "?";
        if (getpeername(fd, (struct sockaddr *)&p, &len) == 0) inet_ntop(AF_INET, &p.sin_addr, text, sizeof text);
        snprintf(peer, sizeof peer, "%s:%u", text, (unsigned)ntohs(p.sin_port));
      }
    } else {
      if (failed++ == 0) snprintf(first_error, sizeof first_error, "%s", strerror(errno));
    }
    close(fd);
  }
  uint64_t elapsed = now_ns() - start;
  uint64_t p50 = 0, p99 = 0;
  double mean = 0;
  if (ok > 0) {
    qsort(samples, (size_t)ok, sizeof *samples, cmp_u64);
    p50 = samples[(ok - 1) / 2];
    p99 = samples[(long)((double)(ok - 1) * 0.99)];
    for (long i = 0; i < ok; i++) mean += (double)samples[i];
    mean /= (double)ok;
  }
  printf("{\"connections\":%ld,\"failed\":%ld,\"firstError\":\"%s\",\"p50Ns\":%llu,\"p99Ns\":%llu,\"meanNs\":%.1f,\"perSecond\":%.1f,\"peer\":\"%s\"}\n", ok, failed,
         first_error, (unsigned long long)p50, (unsigned long long)p99, mean, (double)ok * 1e9 / (double)elapsed, peer);
  free(samples);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "server") == 0) return serve(atoi(argv[2]));
  if (argc == 5 && strcmp(argv[1], "client") == 0) return client(argv[2], atoi(argv[3]), atol(argv[4]));
  fprintf(stderr, "usage: connectProbe server <port> | client <addr> <port> <count>\n");
  return 2;
}
