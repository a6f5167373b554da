# SPDX-License-Identifier: GPL-2.0
#
# vhnet: build the module and vhnetctl; test everything in a VM.
#
#   make                 module/vhnet.ko (for KVER) and tools/vhnetctl/vhnetctl
#   make check           all tests on every supported kernel, in QEMU (KVER= picks one)
#   make demo            a VM with vhnet loaded and a QEMU guest on /dev/vhnet
#   make bench           vhnet against vhost-net, side by side in one VM boot
#   make lint            checkpatch --strict and W=1 builds on every kernel
#   make deps            install what the above need (Debian 12, apt)
#   make install         install module, udev rule, vhnetctl and man page (root)
#   make dkms-install    register, build and install the module with DKMS (root)

VERSION := 0.1
KVER ?= $(shell scripts/kvers.sh default 2>/dev/null || uname -r)
KDIR ?= /lib/modules/$(KVER)/build
DESTDIR ?=
PREFIX ?= /usr/local
DKMS_SRC := $(DESTDIR)/usr/src/vhnet-$(VERSION)

# What DKMS and `make install` ship as module source.
MODULE_SOURCES := Kbuild Makefile dkms.conf module include scripts/kvers.sh

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

tools:
	$(MAKE) -C tools/vhnetctl

selftests: tools
	$(MAKE) -C selftests

check:
	scripts/check.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

lint:
	scripts/lint.sh

deps:
	scripts/deps.sh

check-debug:
	scripts/check.sh --debug

# make fuzz [SECONDS=60] [SEED=0x...] [KVER=...] [FUZZERS="guest vmm"]: both fuzzers side by side in the test VM.
fuzz:
	scripts/fuzz.sh "$(SECONDS)" "$(SEED)"

install: all
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	install -D -m 0644 packaging/60-vhnet.rules $(DESTDIR)/etc/udev/rules.d/60-vhnet.rules
	$(MAKE) -C tools/vhnetctl install DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	install -D -m 0644 Documentation/vhnetctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/vhnetctl.8
	-[ -n "$(DESTDIR)" ] || depmod -a $(KVER)

uninstall:
	rm -f /lib/modules/$(KVER)/updates/module/vhnet.ko /lib/modules/$(KVER)/updates/vhnet.ko
	rm -f $(DESTDIR)/etc/udev/rules.d/60-vhnet.rules
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/vhnetctl.8
	$(MAKE) -C tools/vhnetctl uninstall DESTDIR=$(DESTDIR) PREFIX=$(PREFIX)
	-depmod -a $(KVER)

dkms-install:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp -a --parents $(MODULE_SOURCES) $(DKMS_SRC)/
	dkms add -m vhnet -v $(VERSION)
	dkms build -m vhnet -v $(VERSION) -k $(KVER)
	dkms install -m vhnet -v $(VERSION) -k $(KVER)
	install -D -m 0644 packaging/60-vhnet.rules $(DESTDIR)/etc/udev/rules.d/60-vhnet.rules

dkms-uninstall:
	-dkms remove -m vhnet -v $(VERSION) --all
	rm -rf $(DKMS_SRC)

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C tools/vhnetctl clean
	-$(MAKE) -C selftests clean

# Everything under .cache/ is re-creatable: extracted kernel source pieces,
# per-kernel builds, VM images and results.
distclean: clean
	rm -rf .cache

.PHONY: all module tools selftests check demo bench lint deps check-debug fuzz \
	install uninstall dkms-install dkms-uninstall clean distclean
