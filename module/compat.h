/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels vhnet supports lives here, and
 * nothing else does. The rest of the module tests the capability macros
 * below, never LINUX_VERSION_CODE. Force-included by Kbuild.
 */
#ifndef _VHNET_COMPAT_H
#define _VHNET_COMPAT_H

#include <linux/version.h>

#endif /* _VHNET_COMPAT_H */
