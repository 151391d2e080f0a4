# Sourced by the Makefile before every cgo build and test, with this
# directory as $1. webview_go asks pkg-config for webkit2gtk-4.0; where only
# 4.1 exists (Ubuntu 24.04 and later) the .pc file here answers the 4.0 name
# with 4.1. Go's build cache does not key on pkg-config output, so the shim
# also sets a CGO_CFLAGS marker, which the cache does key on: objects built
# against one WebKit are never reused for the other. Decided at run time,
# after `make deps` may have installed a WebKit.
if ! pkg-config --exists webkit2gtk-4.0 2>/dev/null && pkg-config --exists webkit2gtk-4.1 2>/dev/null; then
	export PKG_CONFIG_PATH="$1${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
	export CGO_CFLAGS="${CGO_CFLAGS:--O2 -g} -DKIOSK_WEBKIT_SHIM_41"
	export CGO_CXXFLAGS="${CGO_CXXFLAGS:--O2 -g} -DKIOSK_WEBKIT_SHIM_41"
fi
