# standalone/img: vireo-img, the image tool (qemu-img compatible).
$(eval $(call program,vireo-img,standalone/img/main.c standalone/img/copy.c,block,-lz))
