//go:build linux

package printersim

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// openPTY opens a new pty pair with a raw line. The master is non-blocking
// (a pollable *os.File: deadlines work and Close interrupts Read); the
// slave descriptor is blocking and only held open.
func openPTY() (master, slave *os.File, pts string, err error) {
	fd, err := syscall.Open("/dev/ptmx", syscall.O_RDWR|syscall.O_NOCTTY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, "", fmt.Errorf("open /dev/ptmx: %w", err)
	}
	fail := func(op string, err error) (*os.File, *os.File, string, error) {
		syscall.Close(fd)
		return nil, nil, "", fmt.Errorf("%s: %w", op, err)
	}
	var unlock int32 // 0 = unlocked
	if err := ioctl(fd, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return fail("ioctl TIOCSPTLCK", err)
	}
	var n uint32
	if err := ioctl(fd, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		return fail("ioctl TIOCGPTN", err)
	}
	// On the master, TCGETS/TCSETS read and set the slave's termios.
	var t syscall.Termios
	if err := ioctl(fd, syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
		return fail("ioctl TCGETS", err)
	}
	makeRaw(&t)
	if err := ioctl(fd, syscall.TCSETS, unsafe.Pointer(&t)); err != nil {
		return fail("ioctl TCSETS", err)
	}
	pts = fmt.Sprintf("/dev/pts/%d", n)
	sfd, err := syscall.Open(pts, syscall.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fail("open "+pts, err)
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), os.NewFile(uintptr(sfd), pts), pts, nil
}

// makeRaw is cfmakeraw(3), with VMIN 1 VTIME 0 and the receiver on.
func makeRaw(t *syscall.Termios) {
	t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP |
		syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON | syscall.IXOFF | syscall.IXANY
	t.Oflag &^= syscall.OPOST
	t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	t.Cflag &^= syscall.CSIZE | syscall.PARENB
	t.Cflag |= syscall.CS8 | syscall.CREAD | syscall.CLOCAL
	t.Cc[syscall.VMIN] = 1
	t.Cc[syscall.VTIME] = 0
}

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch errno {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		default:
			return errno
		}
	}
}
