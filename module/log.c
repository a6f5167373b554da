// SPDX-License-Identifier: GPL-2.0
/*
 * Marking guest pages in the VMM's dirty log (log.h). Every address here
 * comes from the VMM (the log base) or the guest (a descriptor's address
 * and length) and is checked for overflow before use; every loop runs
 * once per guest page actually written, which the caller bounds (a packet,
 * a few used-ring entries). Runs with the owner's mm (a worker or an
 * ioctl) and may fault and sleep: never under a spinlock or RCU.
 */
#include <linux/bitops.h>
#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/uaccess.h>

#include "log.h"

/* Log byte of guest page @pfn: false if it overflows a user address. */
static bool vhnet_log_byte(u64 log_base, u64 pfn, unsigned long *uaddr)
{
	u64 addr;

	if (check_add_overflow(log_base, pfn / BITS_PER_BYTE, &addr) ||
	    addr != (unsigned long)addr)
		return false;
	*uaddr = addr;
	return true;
}

/*
 * Could the log at @log_base hold the bits of [gpa, gpa + len)? The VMM's
 * configuration is checked with this when it is given (as vhost does), so
 * a fault later means the VMM took the log away under a running device.
 */
bool vhnet_log_access_ok(u64 log_base, u64 gpa, u64 len)
{
	unsigned long first, last;
	u64 end;

	if (!len)
		return true;
	if (check_add_overflow(gpa, len - 1, &end) ||
	    !vhnet_log_byte(log_base, gpa / VHNET_LOG_PAGE, &first) ||
	    !vhnet_log_byte(log_base, end / VHNET_LOG_PAGE, &last))
		return false;
	return access_ok((void __user *)first, last - first + 1);
}

/*
 * Mark the pages of [gpa, gpa + len) dirty, after the device wrote them.
 * Bits are set with atomic bit operations on the log page itself (the VMM
 * clears them concurrently with atomic exchanges), one pin of the log page
 * for all the bits it holds.
 */
int vhnet_log_write(u64 log_base, u64 gpa, u64 len)
{
	const u64 bits_per_page = (u64)PAGE_SIZE * BITS_PER_BYTE;
	u64 pfn, last, end;

	if (!len)
		return 0;
	if (check_add_overflow(gpa, len - 1, &end))
		return -EFAULT;
	pfn = gpa / VHNET_LOG_PAGE;
	last = end / VHNET_LOG_PAGE;
	/*
	 * What the device wrote must be visible before the mark: the VMM
	 * reads a set bit, then copies the page (vhost's order).
	 */
	smp_wmb();
	for (;;) {
		unsigned long uaddr, bit;
		struct page *page;
		void *base;
		u64 stop;
		int r;

		if (!vhnet_log_byte(log_base, pfn, &uaddr))
			return -EFAULT;
		r = pin_user_pages_fast(uaddr & PAGE_MASK, 1, FOLL_WRITE, &page);
		if (r != 1)
			return r < 0 ? r : -EFAULT;
		bit = offset_in_page(uaddr) * BITS_PER_BYTE + pfn % BITS_PER_BYTE;
		/* Every page of the range whose bit lies in this log page. */
		stop = min(last, pfn + (bits_per_page - bit) - 1);
		base = kmap_local_page(page);
		for (;;) {
			set_bit(bit, base);
			if (pfn == stop)
				break;
			pfn++;
			bit++;
		}
		kunmap_local(base);
		unpin_user_pages_dirty_lock(&page, 1, true);
		if (pfn == last)
			return 0;
		pfn++;
	}
}

/*
 * Mark the first @len bytes of the guest ranges @ranges[0..n) (a chain's
 * writable buffers, in chain order): what a packet of @len bytes filled.
 */
int vhnet_log_ranges(u64 log_base, const struct vhnet_log_range *ranges,
		     unsigned int n, u64 len)
{
	unsigned int i;
	int r;

	for (i = 0; i < n && len; i++) {
		u64 part = min(ranges[i].len, len);

		r = vhnet_log_write(log_base, ranges[i].gpa, part);
		if (r)
			return r;
		len -= part;
	}
	return 0;
}
