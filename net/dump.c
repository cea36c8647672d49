/*
 * filter-dump: frames into a pcap file, the classic format every packet
 * tool reads (https://wiki.wireshark.org/Development/LibpcapFileFormat):
 * a 24-byte file header, then per frame a 16-byte record header with a
 * microsecond wall-clock timestamp, the bytes kept and the frame's length.
 * Headers are in host byte order; readers tell it by the magic number.
 * Each frame is flushed at once, so the file is whole up to the last frame
 * even if popek is killed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "net/dump.h"

#define PCAP_MAGIC         0xa1b2c3d4u /* microsecond timestamps */
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
#define LINKTYPE_ETHERNET  1

typedef struct PcapFileHeader {
    uint32_t magic;
    uint16_t version_major;
    uint16_t version_minor;
    int32_t thiszone; /* timestamps are UTC */
    uint32_t sigfigs;
    uint32_t snaplen;
    uint32_t linktype;
} PcapFileHeader;

typedef struct PcapRecordHeader {
    uint32_t ts_sec;
    uint32_t ts_usec;
    uint32_t incl_len; /* bytes in the file */
    uint32_t orig_len; /* bytes on the wire */
} PcapRecordHeader;

typedef struct NetDump {
    FILE *file; /* NULL after a write failed: the dump stops, the VM runs on */
    char *path;
    uint32_t snaplen;
} NetDump;

static void dump_frame(void *opaque, const uint8_t *frame, size_t len, bool to_nic)
{
    NetDump *d = opaque;
    if (!d->file) {
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint32_t kept = len > d->snaplen ? d->snaplen : (uint32_t)len;
    PcapRecordHeader rec = {(uint32_t)tv.tv_sec, (uint32_t)tv.tv_usec, kept, (uint32_t)len};
    if (fwrite(&rec, sizeof(rec), 1, d->file) != 1 || fwrite(frame, 1, kept, d->file) != kept ||
        fflush(d->file) != 0) {
        fprintf(stderr, "popek: filter-dump: writing '%s' failed: %s; dump stopped\n", d->path,
                strerror(errno));
        fclose(d->file);
        d->file = NULL;
    }
}

static void dump_info(void *opaque, char *buf, size_t len)
{
    NetDump *d = opaque;
    snprintf(buf, len, "file=%s,maxlen=%u", d->path, d->snaplen);
}

static void dump_free(void *opaque)
{
    NetDump *d = opaque;
    if (d->file) {
        fclose(d->file);
    }
    free(d->path);
    free(d);
}

static const NetFilterOps dump_ops = {
    .type = "filter-dump",
    .frame = dump_frame,
    .info = dump_info,
    .free = dump_free,
};

bool net_dump_attach(Netdev *nd, const char *id, const char *path, uint32_t snaplen, char *err,
                     size_t errlen)
{
    NetDump *d = calloc(1, sizeof(*d));
    if (!d || !(d->path = strdup(path))) {
        free(d);
        snprintf(err, errlen, "out of memory");
        return false;
    }
    d->snaplen = snaplen;
    d->file = fopen(path, "wbe");
    PcapFileHeader hdr = {PCAP_MAGIC, PCAP_VERSION_MAJOR, PCAP_VERSION_MINOR, 0, 0,
                          snaplen,    LINKTYPE_ETHERNET};
    if (!d->file || fwrite(&hdr, sizeof(hdr), 1, d->file) != 1 || fflush(d->file) != 0) {
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
        dump_free(d);
        return false;
    }
    if (!netdev_add_filter(nd, id, &dump_ops, d)) {
        snprintf(err, errlen, "out of memory");
        dump_free(d);
        return false;
    }
    return true;
}
