/*
 * The SSRF guard's address policy: which destinations a webhook may not be sent to.
 *
 * An address is refused when it is not publicly routable.  The lists follow the IANA
 * IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and successors):
 *
 * IPv4
 *   0.0.0.0/8        "this network"; 0.0.0.0 itself is the unspecified address
 *   10.0.0.0/8       private (RFC 1918)
 *   100.64.0.0/10    shared address space, carrier-grade NAT (RFC 6598)
 *   127.0.0.0/8      loopback
 *   169.254.0.0/16   link-local (this is where cloud metadata services live)
 *   172.16.0.0/12    private (RFC 1918)
 *   192.0.0.0/24     IETF protocol assignments
 *   192.0.2.0/24     documentation (TEST-NET-1)
 *   192.88.99.0/24   6to4 relay anycast (deprecated, RFC 7526)
 *   192.168.0.0/16   private (RFC 1918)
 *   198.18.0.0/15    benchmarking (RFC 2544)
 *   198.51.100.0/24  documentation (TEST-NET-2)
 *   203.0.113.0/24   documentation (TEST-NET-3)
 *   224.0.0.0/4      multicast
 *   240.0.0.0/4      reserved; 255.255.255.255 is the limited broadcast address
 *
 * IPv6
 *   ::/128           unspecified
 *   ::1/128          loopback
 *   ::ffff:0:0/96    IPv4-mapped: judged as the embedded IPv4 address
 *   ::/96            IPv4-compatible (deprecated): judged as the embedded IPv4 address
 *   ::ffff:0:0:0/96  IPv4-translated (SIIT): judged as the embedded IPv4 address
 *   64:ff9b::/96     NAT64 well-known prefix: judged as the embedded IPv4 address
 *   64:ff9b:1::/48   local-use NAT64 (RFC 8215)
 *   100::/64         discard-only
 *   2001::/32        Teredo: refused when the server or the (obfuscated) client IPv4 address
 *                    it embeds is refused, since a host with a Teredo interface tunnels to them
 *   2001:2::/48      benchmarking
 *   2001:10::/28     ORCHID (deprecated)
 *   2001:db8::/32    documentation
 *   2002::/16        6to4: judged as the embedded IPv4 address
 *   3fff::/20        documentation (RFC 9637)
 *   fc00::/7         unique local (the IPv6 private range)
 *   fe80::/10        link-local
 *   fec0::/10        site-local (deprecated)
 *   ff00::/8         multicast
 *   anything else outside 2000::/3, the only range allocated for global unicast
 *
 * Any other address family (a Unix socket, say) is refused too.
 */
#include "webhook/ssrf.h"
#include "webhook/webhook.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* The refused IPv4 ranges, most specific first where they nest, with how a message describes them. */
static const struct {
	uint32_t net;
	unsigned prefix;
	const char *what;
} v4_refused[] = {
	{ 0x00000000u, 32, "an unspecified" },
	{ 0x00000000u, 8, "a reserved (\"this network\", 0.0.0.0/8)" },
	{ 0x0a000000u, 8, "a private (RFC 1918)" },
	{ 0xac100000u, 12, "a private (RFC 1918)" },
	{ 0xc0a80000u, 16, "a private (RFC 1918)" },
	{ 0x64400000u, 10, "a shared (carrier-grade NAT, 100.64.0.0/10)" },
	{ 0x7f000000u, 8, "a loopback" },
	{ 0xa9fe0000u, 16, "a link-local" },
	{ 0xc0000000u, 24, "a special-purpose (IETF protocol assignments, 192.0.0.0/24)" },
	{ 0xc0000200u, 24, "a documentation" },
	{ 0xc6336400u, 24, "a documentation" },
	{ 0xcb007100u, 24, "a documentation" },
	{ 0xc0586300u, 24, "a reserved (6to4 relay anycast, 192.88.99.0/24)" },
	{ 0xc6120000u, 15, "a benchmarking (198.18.0.0/15)" },
	{ 0xffffffffu, 32, "a broadcast" },
	{ 0xe0000000u, 4, "a multicast" },
	{ 0xf0000000u, 4, "a reserved (240.0.0.0/4)" },
};

static const char *classify_v4(uint32_t a)
{
	size_t i;
	for (i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++) {
		uint32_t mask = v4_refused[i].prefix == 0 ? 0 : 0xffffffffu << (32 - v4_refused[i].prefix);
		if ((a & mask) == v4_refused[i].net)
			return v4_refused[i].what;
	}
	return NULL;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static int all_zero(const unsigned char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static const char *classify_v6(const unsigned char b[16])
{
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const unsigned char teredo[4] = { 0x20, 0x01, 0x00, 0x00 };
	static const unsigned char doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	if (all_zero(b, 16))
		return "an unspecified";
	if (all_zero(b, 15) && b[15] == 1)
		return "a loopback";
	/* ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (translated) */
	if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
		return classify_v4(be32(b + 12));
	if (all_zero(b, 12))
		return classify_v4(be32(b + 12));
	if (all_zero(b, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
		return classify_v4(be32(b + 12));
	if (memcmp(b, nat64, 12) == 0)
		return classify_v4(be32(b + 12));
	if (memcmp(b, nat64, 4) == 0 && b[4] == 0 && b[5] == 1)
		return "a private (local-use NAT64, 64:ff9b:1::/48)";
	if (b[0] == 0x01 && all_zero(b + 1, 7))
		return "a reserved (discard-only, 100::/64)";
	if (memcmp(b, teredo, 4) == 0) {
		uint32_t client = ~be32(b + 12);
		if (classify_v4(be32(b + 4)) || classify_v4(client))
			return "a Teredo (2001::/32) with a non-public embedded IPv4";
		return NULL;
	}
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x02 && b[4] == 0 && b[5] == 0)
		return "a benchmarking (2001:2::/48)";
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && (b[3] & 0xf0) == 0x10)
		return "a reserved (ORCHID, 2001:10::/28)";
	if (memcmp(b, doc, 4) == 0)
		return "a documentation";
	if (b[0] == 0x20 && b[1] == 0x02) {
		if (classify_v4(be32(b + 2)))
			return "a 6to4 (2002::/16) with a non-public embedded IPv4";
		return NULL;
	}
	if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0x00)
		return "a documentation";
	if ((b[0] & 0xfe) == 0xfc)
		return "a private (unique local, fc00::/7)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "a link-local";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "a site-local (deprecated)";
	if (b[0] == 0xff)
		return "a multicast";
	if ((b[0] & 0xe0) != 0x20)
		return "a reserved (outside 2000::/3)";
	return NULL;
}

const char *lv_addr_classify(const struct sockaddr *sa)
{
	if (!sa)
		return "a missing";
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		return classify_v4(ntohl(sin.sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		return classify_v6(sin6.sin6_addr.s6_addr);
	}
	return "a non-IP";
}

int lv_addr_is_private(const struct sockaddr *sa)
{
	return lv_addr_classify(sa) != NULL;
}

void lv_addr_format(char *out, size_t cap, const struct sockaddr *sa)
{
	const char *r = NULL;
	if (cap == 0)
		return;
	if (sa && sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		r = inet_ntop(AF_INET, &sin.sin_addr, out, (socklen_t)cap);
	} else if (sa && sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		r = inet_ntop(AF_INET6, &sin6.sin6_addr, out, (socklen_t)cap);
	}
	if (!r)
		lv_strlcpy(out, "?", cap);
}
