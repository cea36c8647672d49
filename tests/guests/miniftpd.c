/*
 * A small FTP server for the test guest (RFC 959, passive mode only),
 * because Debian's busybox builds have neither ftpd nor tcpsvd.  One
 * control connection on stdin/stdout, as inetd or `nc -ll -p 21 -e`
 * hands it over:
 *
 *     nc -ll -p 21 -e /bin/miniftpd /srv
 *
 * It serves the files directly in the directory it is given (names with a
 * '/' are refused), to anyone: what busybox ftpget/ftpput need (USER, PASS,
 * TYPE, SIZE, PASV, RETR, STOR, QUIT) and a few courtesies.  Built static
 * for i386 by tests/guests/build-guest.sh; it runs only in the guest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int passive_fd = -1;

static void reply(const char *text)
{
    dprintf(STDOUT_FILENO, "%s\r\n", text);
}

/* PASV: listen on an ephemeral port of the address the client reached us
 * on.  busybox nc listens on IPv6 where it can, so that address may be an
 * IPv4-mapped IPv6 one; the reply names the IPv4 address either way. */
static void enter_passive(void)
{
    struct sockaddr_storage me;
    socklen_t len = sizeof(me);
    if (getsockname(STDIN_FILENO, (struct sockaddr *)&me, &len) < 0) {
        reply("425 No control socket");
        return;
    }
    if (passive_fd >= 0) {
        close(passive_fd);
    }
    uint8_t addr[4];
    if (me.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&me;
        memcpy(addr, &a6->sin6_addr.s6_addr[12], 4);
        a6->sin6_port = 0;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&me;
        memcpy(addr, &a4->sin_addr.s_addr, 4);
        a4->sin_port = 0;
    }
    passive_fd = socket(me.ss_family, SOCK_STREAM, 0);
    socklen_t blen = len;
    len = sizeof(me);
    if (passive_fd < 0 || bind(passive_fd, (struct sockaddr *)&me, blen) < 0 ||
        listen(passive_fd, 1) < 0 || getsockname(passive_fd, (struct sockaddr *)&me, &len) < 0) {
        reply("425 Cannot open a data port");
        return;
    }
    uint16_t p = ntohs(me.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&me)->sin6_port
                                                : ((struct sockaddr_in *)&me)->sin_port);
    dprintf(STDOUT_FILENO, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u)\r\n", addr[0], addr[1],
            addr[2], addr[3], p >> 8, p & 255);
}

/* Copy between the file and the data connection: RETR sends, STOR receives. */
static void transfer(const char *name, int store)
{
    if (strchr(name, '/') || !*name) {
        reply("553 File name not allowed");
        return;
    }
    if (passive_fd < 0) {
        reply("425 Use PASV first");
        return;
    }
    int file = store ? open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open(name, O_RDONLY);
    if (file < 0) {
        reply("550 Cannot open file");
        return;
    }
    reply("150 Opening BINARY mode data connection");
    int data = accept(passive_fd, NULL, NULL);
    close(passive_fd);
    passive_fd = -1;
    int from = store ? data : file, to = store ? file : data;
    char buf[65536];
    ssize_t n = 0;
    while (data >= 0 && (n = read(from, buf, sizeof(buf))) > 0) {
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, (size_t)(n - off));
            if (w <= 0) {
                n = -1;
                break;
            }
            off += w;
        }
        if (n < 0) {
            break;
        }
    }
    if (data >= 0) {
        close(data);
    }
    close(file);
    reply(data >= 0 && n == 0 ? "226 Transfer complete" : "426 Transfer aborted");
}

int main(int argc, char **argv)
{
    if (argc != 2 || chdir(argv[1]) < 0) {
        reply("421 Server misconfigured");
        return 1;
    }
    reply("220 popek test FTP server");
    char line[1024];
    FILE *in = fdopen(STDIN_FILENO, "r");
    while (in && fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\r\n")] = 0;
        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : line + strlen(line);
        struct stat st;
        if (!strncasecmp(line, "USER", 4)) {
            reply("331 Any password will do");
        } else if (!strncasecmp(line, "PASS", 4)) {
            reply("230 Logged in");
        } else if (!strncasecmp(line, "TYPE", 4)) {
            reply("200 Binary it is");
        } else if (!strncasecmp(line, "SYST", 4)) {
            reply("215 UNIX Type: L8");
        } else if (!strncasecmp(line, "PWD", 3)) {
            reply("257 \"/\"");
        } else if (!strncasecmp(line, "CWD", 3)) {
            reply(!strcmp(arg, "/") || !strcmp(arg, ".") ? "250 OK" : "550 No such directory");
        } else if (!strncasecmp(line, "SIZE", 4)) {
            if (!strchr(arg, '/') && stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
                dprintf(STDOUT_FILENO, "213 %lld\r\n", (long long)st.st_size);
            } else {
                reply("550 No such file");
            }
        } else if (!strncasecmp(line, "PASV", 4)) {
            enter_passive();
        } else if (!strncasecmp(line, "RETR", 4)) {
            transfer(arg, 0);
        } else if (!strncasecmp(line, "STOR", 4)) {
            transfer(arg, 1);
        } else if (!strncasecmp(line, "NOOP", 4)) {
            reply("200 OK");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            reply("221 Bye");
            return 0;
        } else {
            reply("502 Command not implemented");
        }
    }
    return 0;
}
