// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vhnet as a device: its node, instance lifetime and the owner rules
 * that every vhost ioctl relies on. Runs as root with vhnet.ko loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "kselftest_harness.h"

#define VHNET_PATH "/dev/vhnet"

/* An ioctl number in vhost's space that no kernel defines. */
#define VHOST_BOGUS _IO(VHOST_VIRTIO, 0xfe)

static int open_vhnet(void)
{
	return open(VHNET_PATH, O_RDWR | O_CLOEXEC);
}

/* Run fn in a child process (a different mm); return its exit status. */
static int in_child(int (*fn)(int fd), int fd)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(fn(fd));
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST(node_is_char_device_0660)
{
	struct stat st;

	ASSERT_EQ(0, stat(VHNET_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0660, st.st_mode & 07777);
}

TEST(open_close)
{
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, close(fd));
}

TEST(set_owner_once)
{
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(EBUSY, errno);
	close(fd);
}

TEST(unowned_instance_refuses_ioctls)
{
	struct vhost_vring_state num = { .index = 0, .num = 256 };
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, VHOST_SET_VRING_NUM, &num));
	EXPECT_EQ(EPERM, errno);
	close(fd);
}

static int child_uses_owned_fd(int fd)
{
	struct vhost_vring_state num = { .index = 0, .num = 256 };

	if (ioctl(fd, VHOST_SET_VRING_NUM, &num) != -1 || errno != EPERM)
		return 1;
	if (ioctl(fd, VHOST_SET_OWNER) != -1 || errno != EBUSY)
		return 2;
	return 0;
}

TEST(other_process_refused)
{
	struct vhost_vring_state num = { .index = 0, .num = 256 };
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	/* The fd is shared across fork, the address space is not. */
	EXPECT_EQ(0, in_child(child_uses_owned_fd, fd));
	/* ...while the owner itself is served. */
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_VRING_NUM, &num));
	close(fd);
}

TEST(reset_owner_allows_new_owner)
{
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(0, ioctl(fd, VHOST_RESET_OWNER));
	EXPECT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	close(fd);
}

TEST(unknown_ioctl_enotty)
{
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VHOST_SET_OWNER));
	EXPECT_EQ(-1, ioctl(fd, VHOST_BOGUS));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO('x', 1)));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST(unload_refused_while_open)
{
	int fd = open_vhnet();

	ASSERT_LE(0, fd);
	/* Nonblocking: a module in use is refused at once, not waited for. */
	EXPECT_EQ(-1, syscall(SYS_delete_module, "vhnet", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
}

/*
 * Sum of the active objects of every slab cache but vmap_area: an exited
 * worker's vmalloc'ed stack is freed lazily, its vmap_area kept until the
 * kernel purges lazily freed areas in bulk (tens of MB later), which reads
 * like a leak of one object per thread that is not one.
 */
static long slab_objects(void)
{
	char line[512], name[128];
	long total = 0, active;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %ld", name, &active) == 2 &&
		    name[0] != '#' && strcmp(name, "vmap_area"))
			total += active;
	fclose(f);
	return total;
}

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long val = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			val = atol(line + n + 1);
	fclose(f);
	return val;
}

/*
 * Plain opens are cheap; an owned instance also starts its two workers.
 * A debug kernel (VHNET_TIME_SCALE > 1, set by make check-debug) is many
 * times slower: it does that much fewer cycles in the same time limit.
 * Under KASAN the slab counts judge nothing (below) and kmemleak reports
 * one leaked object as surely as a thousand: a few hundred cycles run
 * every path, whatever else loads the machine.
 */
#define CYCLES 20000
#define OWNED_CYCLES 2000
#define KMEMLEAK_CYCLES 500
#define KMEMLEAK_OWNED_CYCLES 100
#define SETTLE_SECONDS 30

static int time_scale(void)
{
	const char *v = getenv("VHNET_TIME_SCALE");
	int n = v ? atoi(v) : 1;

	return n > 0 ? n : 1;
}

/* Whether the running kernel was built with @opt (its /boot/config-*). */
static int kernel_config_has(const char *opt)
{
	char path[300], line[256];
	struct utsname u;
	size_t n = strlen(opt);
	int found = 0;
	FILE *f;

	if (uname(&u))
		return 0;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, opt, n) && line[n] == '=' && line[n + 1] == 'y';
	fclose(f);
	return found;
}

static int open_close_n(int n, int own)
{
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = open_vhnet();
		if (fd < 0)
			return -1;
		if (own && ioctl(fd, VHOST_SET_OWNER))
			return -1;
		if (close(fd))
			return -1;
	}
	return 0;
}

FIXTURE(cycles) {};
FIXTURE_SETUP(cycles) {}
FIXTURE_TEARDOWN(cycles) {}

TEST_F_TIMEOUT(cycles, leak_nothing, 300)
{
	long slab_before, slab_after = 0, vmalloc_before, vmalloc_after;
	int cycles = CYCLES / time_scale(), owned = OWNED_CYCLES / time_scale();
	bool kasan = kernel_config_has("CONFIG_KASAN");
	int i;

	if (kasan) {
		cycles = KMEMLEAK_CYCLES;
		owned = KMEMLEAK_OWNED_CYCLES;
	}

	/*
	 * Warm up with a full round first: slab caches grow partial and
	 * per-CPU slabs to a working set the first time round, and only a
	 * leak keeps growing in the second.
	 */
	ASSERT_EQ(0, open_close_n(cycles / 10, 0));
	ASSERT_EQ(0, open_close_n(owned, 1));
	slab_before = slab_objects();
	vmalloc_before = meminfo_kb("VmallocUsed");
	ASSERT_LT(0, slab_before);
	ASSERT_EQ(0, open_close_n(cycles, 0));
	ASSERT_EQ(0, open_close_n(owned, 1));
	/*
	 * An exited worker's task_struct, stack and friends are freed after
	 * an RCU grace period, which under TCG can lag by seconds: give the
	 * frees time to land. A real leak never settles.
	 */
	for (i = 0; i < SETTLE_SECONDS; i++) {
		slab_after = slab_objects();
		if (slab_after - slab_before < owned / 2)
			break;
		sleep(1);
	}
	vmalloc_after = meminfo_kb("VmallocUsed");
	ksft_print_msg("slab objects %ld -> %ld, vmalloc %ld -> %ld kB over %d + %d owned cycles\n",
		       slab_before, slab_after, vmalloc_before, vmalloc_after,
		       cycles, owned);
	EXPECT_LT(vmalloc_after - vmalloc_before, 1024);
	/*
	 * KASAN keeps freed objects in its quarantine, so slab counts grow
	 * with every cycle there whether or not anything leaks (thousands
	 * of objects seen over these cycles). On such a kernel kmemleak is
	 * the judge: run-in-vm.sh scans after the suite and any report
	 * fails it. It must be there, then.
	 */
	if (kasan) {
		ASSERT_EQ(0, access("/sys/kernel/debug/kmemleak", R_OK))
			TH_LOG("KASAN without kmemleak: nothing can tell a leak here");
		ksft_print_msg("KASAN: slab counts include its quarantine; %s\n",
			       "kmemleak judges leaks");
		return;
	}
	/*
	 * A leak of one object per instance would add at least `owned`
	 * objects; allow for per-CPU slab caches and partial slabs (a few
	 * hundred objects seen on 6.1) well below that.
	 */
	EXPECT_LT(slab_after - slab_before, owned / 2);
}

TEST_HARNESS_MAIN
