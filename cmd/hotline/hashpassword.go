package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

// hashCost is bcrypt's cost for the hashes hash-password makes: about a quarter of a second per
// login on a current core, and 2^12 rounds for anyone who gets the hash to try each guess with.
const hashCost = 12

// hashPassword reads one password from in (a terminal: prompted on errOut, typed without echo; a
// pipe: its first line) and prints its bcrypt hash on out.
func hashPassword(in *os.File, out, errOut io.Writer) error {
	var pw string
	if restore, err := noEcho(in); err == nil {
		fmt.Fprint(errOut, "password: ")
		pw, err = readLine(in)
		restore()
		fmt.Fprintln(errOut)
		if err != nil {
			return err
		}
	} else {
		var rerr error
		if pw, rerr = readLine(in); rerr != nil {
			return rerr
		}
	}
	h, err := makeHash(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, h)
	return nil
}

func makeHash(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("hash-password: empty password")
	}
	if len(pw) > 72 {
		return "", errors.New("hash-password: bcrypt uses at most 72 bytes of a password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), hashCost)
	if err != nil {
		return "", fmt.Errorf("hash-password: %w", err)
	}
	return string(h), nil
}

// readLine reads up to the first newline, unbuffered past it (nothing else reads in).
func readLine(in io.Reader) (string, error) {
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("hash-password: read: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// noEcho turns off the terminal's echo on f and returns how to turn it back on; an error when f is
// not a terminal.
func noEcho(f *os.File) (restore func(), err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	t := *old
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
