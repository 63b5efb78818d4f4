/*
 * frame.c — the control stream: u32 len · u16 type · u16 version · payload, little-endian (proto.h).
 *
 * The stream is a SOCK_STREAM socketpair (libuv's 'pipe' stdio entry), so reads loop until the full count
 * and writes use send(MSG_NOSIGNAL): once Node has closed its end, a write must fail with EPIPE, never kill us
 * with SIGPIPE (libuv reset SIGPIPE to SIG_DFL in our process).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"

void put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void put_u32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
uint16_t get_u16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
uint32_t get_u32le(const uint8_t *p) { return get_u16le(p) | (uint32_t)get_u16le(p + 2) << 16; }
uint64_t get_u64le(const uint8_t *p) { return get_u32le(p) | (uint64_t)get_u32le(p + 4) << 32; }

static int send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int frame_send(int fd, uint16_t type, const void *payload, uint32_t len)
{
	uint8_t hdr[8];

	put_u32(hdr, len);
	put_u16(hdr + 4, type);
	put_u16(hdr + 6, PROTO_VERSION);
	if (send_all(fd, hdr, sizeof hdr) < 0)
		return -1;
	return len ? send_all(fd, payload, len) : 0;
}

int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = read(fd, p, len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		p += r;
		len -= (size_t)r;
	}
	return 1;
}

int frame_recv_hdr(int fd, uint16_t *type, uint32_t *len, uint32_t max)
{
	uint8_t hdr[8];
	int r = read_full(fd, hdr, sizeof hdr);

	if (r <= 0)
		return r;
	*len = get_u32le(hdr);
	*type = get_u16le(hdr + 4);
	if (get_u16le(hdr + 6) != PROTO_VERSION) {
		errno = EPROTO;
		return -1;
	}
	if (*len > max) {
		errno = EMSGSIZE;
		return -1;
	}
	return 1;
}

/* A protocol str: u32 len · bytes · NUL (the same encoding as plan strings). */
static size_t put_str(uint8_t *p, const char *s)
{
	size_t n = strlen(s);

	put_u32(p, (uint32_t)n);
	memcpy(p + 4, s, n + 1);
	return 4 + n + 1;
}

int send_failed(int fd, uint32_t step, uint16_t kind, const struct step_error *e)
{
	/* Bounded: op and path are NUL-terminated within their arrays (step_fail guarantees it). */
	uint8_t buf[12 + 4 + sizeof e->op + 4 + sizeof e->path];
	size_t n = 12;

	put_u32(buf, step);
	put_u16(buf + 4, kind);
	put_u16(buf + 6, 0);
	put_u32(buf + 8, (uint32_t)e->err);
	n += put_str(buf + n, e->op);
	n += put_str(buf + n, e->path);
	return frame_send(fd, MSG_FAILED, buf, (uint32_t)n);
}

int send_reject(int fd, uint32_t step, uint32_t offset, const char *reason)
{
	uint8_t buf[8 + 4 + 256];
	char r[250];
	size_t n = 8;

	copy_bounded(r, sizeof r, reason);
	put_u32(buf, step);
	put_u32(buf + 4, offset);
	n += put_str(buf + n, r);
	return frame_send(fd, MSG_REJECT, buf, (uint32_t)n);
}
