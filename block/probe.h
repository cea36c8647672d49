/*
 * Image format probing, as QEMU does when no format= is given: the first
 * bytes of a file name its format by magic number; a file no format claims
 * is raw.  popek reads raw and qcow2 images (block/node.c opens what the
 * probe names); the probe lets it refuse a VMDK or VDI image by name
 * instead of showing the guest its metadata as a disk.
 *
 * A probed raw image is dangerous in one way: a guest that writes a format
 * magic into sector 0 turns it, for the next probe, into an image of that
 * format, whose header can point anywhere on the host.  So, as QEMU does,
 * a drive opened on a probe refuses such writes (block_probe_write_ok)
 * until the user says format=raw.
 */
#ifndef BLOCK_PROBE_H
#define BLOCK_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of a file's head the probe looks at. */
#define BLOCK_PROBE_LEN 512

/* The format whose magic starts buf (len bytes, fewer for a short file):
 * "qcow2", "qcow", "vmdk", "vdi", "vhdx", "vpc", "qed", "parallels",
 * "bochs", "luks", or "raw" when none matches.  QEMU's format names. */
const char *block_probe_format(const uint8_t *buf, size_t len);

/* Probe the file at path; NULL with a one-line reason in err if it cannot
 * be read. */
const char *block_probe_file(const char *path, char *err, size_t errlen);

/* May the guest write buf (at least BLOCK_PROBE_LEN bytes) to sector 0 of
 * a probed raw image?  Not if it would then probe as another format. */
bool block_probe_write_ok(const uint8_t *buf);

#endif /* BLOCK_PROBE_H */
