# vireo-system-x86_64 / vireo-system-i386: the full-system emulator (see docs/manual.md).
SYSTEM_SRCS := standalone/system/main.c standalone/system/options.c
$(eval $(call program,vireo-system-x86_64,$(SYSTEM_SRCS),machines devices dm kvm))

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

# make bench: start-up cost against Debian's qemu (tests/bench/startup.py).
$(eval $(call bench,startup,$(BUILD)/vireo-system-x86_64 $(BUILD)/tests/kvm/exit.bin $(BUILD)/tests/kvm/vireo-system-static $(BUILD)/tests/bench/startup-run,tests/bench/startup.sh $(BUILD)))
ifneq ($(SANITIZE),1)
$(eval $(call program,tests/bench/startup-run,tests/bench/startup-run.c,,-static))
endif
