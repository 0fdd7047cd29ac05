# Boot tests: the Linux boot-protocol loader on Debian's kernel (make check); SeaBIOS
# POST and a Linux boot under KVM (make check-long).
$(eval $(call program,tests/boot/linux-loader,tests/boot/linux-loader.c,machines testlib,-lcunit))
$(eval $(call test,linux-loader,$(BUILD)/tests/boot/linux-loader,tests/boot/linux-loader.sh $(BUILD)/tests/boot/linux-loader))
$(eval $(call long_test,seabios-kvm,$(BUILD)/vireo-system-x86_64,tests/boot/seabios-kvm.sh $(BUILD)))
$(eval $(call long_test,linux-kvm,$(BUILD)/vireo-system-x86_64,tests/boot/linux-kvm.sh $(BUILD)))
$(eval $(call long_test,guest-on-qemu,,tests/boot/guest-on-qemu.sh))
