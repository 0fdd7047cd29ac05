# vireo-system-x86_64 / vireo-system-i386: the full-system emulator (see docs/manual.md).
# The Linux boot-protocol loader lives in machines/ but is listed here: it is this
# program's part of the pc machine and has no dependency on the rest of machines/.
$(eval $(call library,x86boot,machines/x86-linux-boot.c))

SYSTEM_SRCS := standalone/system/main.c standalone/system/options.c
$(eval $(call program,vireo-system-x86_64,$(SYSTEM_SRCS),pc devices dm kvm x86boot))

# vireo-system-i386 is the same program (the name Xen's toolstack starts).
$(BUILD)/vireo-system-i386: $(BUILD)/vireo-system-x86_64
	ln -sf vireo-system-x86_64 $@
EXTRA_ALL += $(BUILD)/vireo-system-i386

# make run: packages, build, default guest, boot it (README).  The root `run`
# target depends on this rule.
.PHONY: run-guest
run-guest: deps $(BUILD)/vireo-system-x86_64 $(BUILD)/vireo-system-i386
	@guest=$$(scripts/guest/prepare.sh) && \
	echo "Booting Debian's kernel with a busybox shell (Ctrl-A x quits, Ctrl-A c: monitor)" && \
	exec $(BUILD)/vireo-system-x86_64 -m 512 -nographic \
	    -kernel $$guest/vmlinuz -initrd $$guest/initrd.gz \
	    -append "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1 quiet"
