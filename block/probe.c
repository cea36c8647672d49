/*
 * Image format probing (see probe.h).  The magic numbers are those each
 * format's specification puts at the start of the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "block/probe.h"

typedef struct FormatMagic {
    const char *format;
    uint32_t offset;   /* where the magic sits */
    const char *magic; /* its bytes */
    uint32_t len;
} FormatMagic;

static const FormatMagic magics[] = {
    {"qcow2", 0, "QFI\xfb", 4},               /* then version 2 or 3 (big-endian) */
    {"vmdk", 0, "KDMV", 4},                   /* hosted sparse extent */
    {"vmdk", 0, "COWD", 4},                   /* ESX sparse extent */
    {"vmdk", 0, "# Disk DescriptorFile", 21}, /* text descriptor */
    {"vdi", 0x40, "\x7f\x10\xda\xbe", 4},     /* signature 0xbeda107f, little-endian */
    {"vhdx", 0, "vhdxfile", 8},               /* file type identifier */
    {"vpc", 0, "conectix", 8},                /* VHD footer copy of a dynamic disk */
    {"qed", 0, "QED\0", 4},
    {"parallels", 0, "WithoutFreeSpace", 16},
    {"parallels", 0, "WithouFreSpacExt", 16},
    {"bochs", 0, "Bochs Virtual HD Image", 22},
    {"luks", 0, "LUKS\xba\xbe", 6},
};

const char *block_probe_format(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
        const FormatMagic *m = &magics[i];
        if (len >= (size_t)m->offset + m->len && !memcmp(buf + m->offset, m->magic, m->len)) {
            /* QFI\xfb version 1 is the old qcow format. */
            if (!strcmp(m->format, "qcow2") && len >= 8 && buf[4] == 0 && buf[5] == 0 &&
                buf[6] == 0 && buf[7] == 1) {
                return "qcow";
            }
            return m->format;
        }
    }
    return "raw";
}

const char *block_probe_file(const char *path, char *err, size_t errlen)
{
    uint8_t buf[BLOCK_PROBE_LEN];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "'%s': %s", path, strerror(errno));
        return NULL;
    }
    ssize_t n;
    do {
        n = pread(fd, buf, sizeof(buf), 0);
    } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "'%s': %s", path,
                 saved == EISDIR ? "not a disk image file" : strerror(saved));
        return NULL;
    }
    return block_probe_format(buf, (size_t)n);
}

bool block_probe_write_ok(const uint8_t *buf)
{
    return !strcmp(block_probe_format(buf, BLOCK_PROBE_LEN), "raw");
}
