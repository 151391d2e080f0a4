// Package deploy holds the files that install the kiosk on a Debian PC and
// the hub at the data centre: systemd units (kioskd, the cage session
// running kioskui, kioskhub), sysusers.d and tmpfiles.d entries, the udev
// rule for printers, the polkit rule that lets kioskd restart only the
// screen's unit and reboot, the screen's PAM service, and logind and
// sysctl settings that close a public PC's escape routes. The README's
// "Operations" section says where each goes. The Go code is only the test
// that checks them (systemd-analyze verify and security, sysusers,
// tmpfiles, the polkit rule evaluated).
package deploy
