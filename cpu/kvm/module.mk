# The KVM executor (docs/kvm.md).
$(eval $(call library,kvm,cpu/kvm/kvm.c))
