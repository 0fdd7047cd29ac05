# KVM executor tests: guest programs assembled with nasm, run on the pc machine
# under cpu/kvm with a probe device (tests/kvm/kvm-test.c).  The same programs are
# checked on Debian's qemu (TCG) so that a KVM failure points at Vireo.
KVM_GUESTS := real16 prot32 long64 pit smp spin exit
KVM_GUEST_BINS := $(patsubst %,$(BUILD)/tests/kvm/%.bin,$(KVM_GUESTS))

$(BUILD)/tests/kvm/%.bin: tests/kvm/guest/%.asm tests/kvm/guest/common.inc
	@mkdir -p $(@D)
	nasm -f bin -w+error -I tests/kvm/guest/ -o $@ $<

EXTRA_ALL += $(KVM_GUEST_BINS)

$(eval $(call program,tests/kvm/kvm-test,tests/kvm/kvm-test.c,machines devices dm kvm))
$(eval $(call test,kvm,$(BUILD)/tests/kvm/kvm-test $(KVM_GUEST_BINS),$(BUILD)/tests/kvm/kvm-test $(BUILD)/tests/kvm))
$(eval $(call test,kvm-guests-on-qemu,$(KVM_GUEST_BINS),tests/kvm/guests-on-qemu.sh $(BUILD)/tests/kvm))

# The same tests on a real KVM even where the host has none: Debian's kernel
# under qemu's TCG with an emulated AMD SVM CPU loads kvm-amd, and the statically
# linked kvm-test runs inside (tests/kvm/nested.sh).  A minute and a half on an
# idle machine, but over fifteen when the two cores are busy (the kernel boots
# under TCG), so it is in make check-long with SeaBIOS's POST and a Linux boot on
# Vireo under the same nested KVM.
ifneq ($(SANITIZE),1)
$(eval $(call program,tests/kvm/kvm-test-static,tests/kvm/kvm-test.c,machines devices dm kvm,-static))
$(eval $(call program,tests/kvm/vireo-system-static,$(SYSTEM_SRCS),machines devices dm kvm,-static))
$(eval $(call long_test,kvm-nested,$(BUILD)/tests/kvm/kvm-test-static $(BUILD)/tests/kvm/vireo-system-static $(KVM_GUEST_BINS),tests/kvm/nested.sh $(BUILD) kvm-test))
$(eval $(call long_test,seabios-nested-kvm,$(BUILD)/tests/kvm/vireo-system-static,tests/kvm/nested.sh $(BUILD) seabios))
$(eval $(call long_test,linux-nested-kvm,$(BUILD)/tests/kvm/vireo-system-static,tests/kvm/nested.sh $(BUILD) linux))
endif
