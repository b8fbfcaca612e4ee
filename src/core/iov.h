/* Helpers for scatter/gather lists (struct iovec), shared by block backends and devices. */
#ifndef RV_CORE_IOV_H
#define RV_CORE_IOV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Sum of the lengths; UINT64_MAX if it overflows. */
uint64_t rv_iov_size(const struct iovec *iov, int iovcnt);
/* Describes bytes [offset, offset+len) of `iov` in `out` (at most `max` entries, which
 * iovcnt entries always suffice for). Returns the number of entries, or -1 if the range is not
 * inside `iov` or does not fit in `max`. */
int rv_iov_slice(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len,
                 struct iovec *out, int max);
/* Copies between a flat buffer and bytes [offset, offset+len) of `iov`; a range reaching past
 * the end of `iov` copies what there is. Returns the number of bytes copied. */
size_t rv_iov_to_buf(const struct iovec *iov, int iovcnt, uint64_t offset, void *buf, size_t len);
size_t rv_iov_from_buf(const struct iovec *iov, int iovcnt, uint64_t offset, const void *buf,
                       size_t len);
void rv_iov_memset(const struct iovec *iov, int iovcnt, uint64_t offset, int c, uint64_t len);
/* True if every byte of bytes [offset, offset+len) of `iov` is zero. */
int rv_iov_is_zero(const struct iovec *iov, int iovcnt, uint64_t offset, uint64_t len);

#endif
