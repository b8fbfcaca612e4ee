/* PV label and metadata slot headers: encoding and strict decoding (vol.h has the layout).
 * Everything read from a PV passes through here before it is trusted. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "block/volume/vol.h"
#include "core/bytes.h"
#include "core/error.h"

#define LABEL_MAGIC "RVISORPV"
#define SLOT_MAGIC "RVMDSLOT"
#define FORMAT_VERSION 1u

/* Label: 0 magic[8], 8 version u32, 12 header size u32, 16 uuid[16], 32 dev_size,
 * 40 mda_offset, 48 mda_size, 56 pe_start, 508 crc32 of bytes [0, 508). */
enum { L_VERSION = 8, L_HSIZE = 12, L_UUID = 16, L_DEVSIZE = 32, L_MDAOFF = 40, L_MDASIZE = 48,
       L_PESTART = 56, L_CRC = 508 };
/* Slot header: 0 magic[8], 8 version u32, 12 payload length u32, 16 seq u64, 24 PV uuid[16],
 * 40 payload crc32, 44 header crc32 of bytes [0, 44); the payload starts at VOL_SLOT_HDR. */
enum { S_VERSION = 8, S_LEN = 12, S_SEQ = 16, S_UUID = 24, S_PCRC = 40, S_HCRC = 44 };

void vol_label_encode(const struct vol_label *l, uint8_t buf[VOL_LABEL_SIZE])
{
    memset(buf, 0, VOL_LABEL_SIZE);
    memcpy(buf, LABEL_MAGIC, 8);
    rv_put_le32(buf + L_VERSION, FORMAT_VERSION);
    rv_put_le32(buf + L_HSIZE, VOL_LABEL_SIZE);
    memcpy(buf + L_UUID, l->uuid, VOL_UUID_LEN);
    rv_put_le64(buf + L_DEVSIZE, l->dev_size);
    rv_put_le64(buf + L_MDAOFF, l->mda_offset);
    rv_put_le64(buf + L_MDASIZE, l->mda_size);
    rv_put_le64(buf + L_PESTART, l->pe_start);
    rv_put_le32(buf + L_CRC, rv_crc32(buf, L_CRC));
}

int vol_label_decode(const uint8_t *buf, size_t len, const char *what, struct vol_label *l)
{
    if (len < VOL_LABEL_SIZE)
        return rv_error_set(-EINVAL, "%s: too short for a PV label (%zu bytes)", what, len);
    if (memcmp(buf, LABEL_MAGIC, 8) != 0)
        return rv_error_set(-ENOENT, "%s: no PV label (not a physical volume)", what);
    if (rv_get_le32(buf + L_CRC) != rv_crc32(buf, L_CRC))
        return rv_error_set(-EILSEQ, "%s: PV label checksum mismatch (corrupted label)", what);
    uint32_t version = rv_get_le32(buf + L_VERSION);
    if (version != FORMAT_VERSION)
        return rv_error_set(-ENOTSUP, "%s: PV label version %" PRIu32 " is not supported", what,
                            version);
    if (rv_get_le32(buf + L_HSIZE) != VOL_LABEL_SIZE)
        return rv_error_set(-EINVAL, "%s: bad PV label size", what);
    memcpy(l->uuid, buf + L_UUID, VOL_UUID_LEN);
    l->dev_size = rv_get_le64(buf + L_DEVSIZE);
    l->mda_offset = rv_get_le64(buf + L_MDAOFF);
    l->mda_size = rv_get_le64(buf + L_MDASIZE);
    l->pe_start = rv_get_le64(buf + L_PESTART);
    /* Each slot holds a header and at least 512 bytes of payload; everything 512-aligned;
     * the areas in order label < metadata < data, all inside the device. */
    if (l->mda_offset < VOL_LABEL_SIZE || l->mda_offset % 512 || l->mda_size % 1024 ||
        l->mda_size < 4 * VOL_SLOT_HDR || l->mda_size > VOL_MDA_MAX ||
        l->mda_offset > (1ull << 40) || l->pe_start % 512 ||
        l->pe_start < l->mda_offset + l->mda_size || l->pe_start > l->dev_size)
        return rv_error_set(-EINVAL, "%s: PV label has an inconsistent layout (metadata "
                            "%" PRIu64 "+%" PRIu64 ", data at %" PRIu64 ", size %" PRIu64 ")",
                            what, l->mda_offset, l->mda_size, l->pe_start, l->dev_size);
    return 0;
}

void vol_slot_encode(const struct vol_slot *s, uint8_t buf[VOL_SLOT_HDR])
{
    memset(buf, 0, VOL_SLOT_HDR);
    memcpy(buf, SLOT_MAGIC, 8);
    rv_put_le32(buf + S_VERSION, FORMAT_VERSION);
    rv_put_le32(buf + S_LEN, s->len);
    rv_put_le64(buf + S_SEQ, s->seq);
    memcpy(buf + S_UUID, s->pv_uuid, VOL_UUID_LEN);
    rv_put_le32(buf + S_PCRC, s->crc);
    rv_put_le32(buf + S_HCRC, rv_crc32(buf, S_HCRC));
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int vol_slot_decode(const uint8_t *buf, size_t len, uint64_t slot_size,
                    const uint8_t uuid[VOL_UUID_LEN], const char *what, struct vol_slot *s)
{
    memset(s, 0, sizeof(*s));
    if (len < VOL_SLOT_HDR)
        return rv_error_set(-EINVAL, "%s: metadata slot header truncated (%zu bytes)", what, len);
    if (all_zero(buf, VOL_SLOT_HDR))
        return rv_error_set(-ENOENT, "%s: empty metadata slot", what);
    if (memcmp(buf, SLOT_MAGIC, 8) != 0)
        return rv_error_set(-EILSEQ, "%s: metadata slot has a bad magic number", what);
    if (rv_get_le32(buf + S_HCRC) != rv_crc32(buf, S_HCRC))
        return rv_error_set(-EILSEQ, "%s: metadata slot header checksum mismatch", what);
    uint32_t version = rv_get_le32(buf + S_VERSION);
    if (version != FORMAT_VERSION)
        return rv_error_set(-ENOTSUP, "%s: metadata version %" PRIu32 " is not supported", what,
                            version);
    s->len = rv_get_le32(buf + S_LEN);
    s->seq = rv_get_le64(buf + S_SEQ);
    s->crc = rv_get_le32(buf + S_PCRC);
    memcpy(s->pv_uuid, buf + S_UUID, VOL_UUID_LEN);
    if (s->seq == 0)
        return rv_error_set(-EINVAL, "%s: metadata slot with sequence number 0", what);
    if (s->len == 0 || (uint64_t)s->len > slot_size - VOL_SLOT_HDR)
        return rv_error_set(-EINVAL, "%s: metadata length %" PRIu32 " does not fit the slot "
                            "(%" PRIu64 " bytes)", what, s->len, slot_size - VOL_SLOT_HDR);
    if (memcmp(s->pv_uuid, uuid, VOL_UUID_LEN) != 0)
        return rv_error_set(-EINVAL, "%s: metadata slot belongs to another PV", what);
    return 0;
}
