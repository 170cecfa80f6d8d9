/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ipfix_enc.h - the pure IPFIX message encoder behind the ipfix sink: flow
 * records in, RFC 7011 messages out. No I/O, no clock, no allocation, so it
 * is unit tested and fuzzed byte for byte; the sink (sink_ipfix.c) owns the
 * sockets and decides when templates are refreshed.
 *
 * Template ids: FC_IPFIX_OPTIONS_TID is the exporter-statistics options
 * template; data templates are FC_IPFIX_DATA_TID_BASE + shape, where the
 * shape bits (FC_IPFIX_SHAPE_*) say which fields a record carries. A
 * template is announced the first time a record needs it (and again after
 * fc_ipfix_enc__resend_templates()), inside the message that carries the
 * record, before the record.
 *
 * Build/commit: fc_ipfix_enc__build() works from the committed state and
 * leaves the result pending; fc_ipfix_enc__commit() adopts it once the
 * message is known to have been written. A message that was never sent thus
 * costs nothing: sequence number, totals and "template sent" flags are as
 * if it had not been built.
 */
#ifndef FC_IPFIX_ENC_H
#define FC_IPFIX_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flowcut/record.h"

#define FC_IPFIX_VERSION 10
#define FC_IPFIX_HDR_LEN 16
#define FC_IPFIX_SET_HDR_LEN 4
#define FC_IPFIX_SET_TEMPLATE 2
#define FC_IPFIX_SET_OPTIONS_TEMPLATE 3
#define FC_IPFIX_PEN_REVERSE 29305	/* RFC 5103 reverse information elements */
#define FC_IPFIX_ENTERPRISE_BIT 0x8000
#define FC_IPFIX_OPTIONS_TID 256
#define FC_IPFIX_DATA_TID_BASE 257
#define FC_IPFIX_MSG_MAX 65535		/* the header's 16-bit length */
#define FC_IPFIX_MSG_MIN 512		/* smallest max_msg we accept: any template + record fit */
#define FC_IPFIX_MAX_FIELDS 24		/* fields of the widest data template */

/* Shape bits: which optional fields a data record carries. */
#define FC_IPFIX_SHAPE_V6 0x01		/* IPv6 addresses (else IPv4) */
#define FC_IPFIX_SHAPE_ICMP 0x02	/* icmpTypeCode* instead of transport ports */
#define FC_IPFIX_SHAPE_VLAN 0x04	/* vlanId */
#define FC_IPFIX_SHAPE_VLAN2 0x08	/* ... and dot1qCustomerVlanId (inner tag) */
#define FC_IPFIX_SHAPE_VXLAN 0x10	/* layer2SegmentId (VXLAN VNI) */
#define FC_IPFIX_SHAPE_UNI 0x20		/* uniflow: no reverse elements */
#define FC_IPFIX_NSHAPES 64

/* IANA information element ids used (RFC 7012 / IANA IPFIX registry). */
enum fc_ipfix_ie {
	FC_IE_OCTET_DELTA = 1,
	FC_IE_PACKET_DELTA = 2,
	FC_IE_PROTOCOL = 4,
	FC_IE_TCP_FLAGS = 6,
	FC_IE_SRC_PORT = 7,
	FC_IE_SRC_IPV4 = 8,
	FC_IE_DST_PORT = 11,
	FC_IE_DST_IPV4 = 12,
	FC_IE_SRC_IPV6 = 27,
	FC_IE_DST_IPV6 = 28,
	FC_IE_ICMP_TC_V4 = 32,
	FC_IE_EXP_OCTETS = 40,		/* exportedOctetTotalCount */
	FC_IE_EXP_MSGS = 41,		/* exportedMessageTotalCount */
	FC_IE_EXP_FLOWS = 42,		/* exportedFlowRecordTotalCount */
	FC_IE_VLAN = 58,
	FC_IE_FLOW_END_REASON = 136,
	FC_IE_ICMP_TC_V6 = 139,
	FC_IE_FLOW_ID = 148,
	FC_IE_DOMAIN_ID = 149,		/* observationDomainId */
	FC_IE_START_MS = 152,
	FC_IE_END_MS = 153,
	FC_IE_START_NS = 156,
	FC_IE_END_NS = 157,
	FC_IE_BIFLOW_DIR = 239,
	FC_IE_CUSTOMER_VLAN = 245,	/* dot1qCustomerVlanId */
	FC_IE_L2_SEGMENT = 351,		/* layer2SegmentId */
};

/* flowEndReason values (IANA). */
#define FC_IPFIX_END_IDLE 0x01
#define FC_IPFIX_END_ACTIVE 0x02
#define FC_IPFIX_END_EOF 0x03		/* end of flow detected (FIN, RST) */
#define FC_IPFIX_END_FORCED 0x04	/* forced end (end of input, shutdown) */
#define FC_IPFIX_END_RESOURCES 0x05	/* lack of resources (evicted) */

/* One field specifier of a template. */
struct fc_ipfix_field {
	uint16_t id;	/* without the enterprise bit */
	uint16_t len;	/* octets in the data record */
	uint32_t pen;	/* 0 = IETF element, else the enterprise number */
};

struct fc_ipfix_enc_opts {
	uint32_t domain;	/* observation domain id */
	bool uniflow;		/* two records per flow instead of one RFC 5103 biflow */
	bool time_ns;		/* flow{Start,End}Nanoseconds instead of ...Milliseconds */
	uint32_t max_msg;	/* message size limit, FC_IPFIX_MSG_MIN .. FC_IPFIX_MSG_MAX */
};

/* What the collector has been sent (and told) so far. */
struct fc_ipfix_state {
	uint32_t seq;		/* data records sent in this domain, mod 2^32 */
	uint64_t msgs;		/* messages sent (exportedMessageTotalCount) */
	uint64_t flow_recs;	/* flow data records sent (exportedFlowRecordTotalCount) */
	uint64_t octets;	/* message octets sent (exportedOctetTotalCount) */
	uint64_t tmpl_sent;	/* bit per shape: template announced */
	uint64_t tmpl_used;	/* bit per shape: ever used (re-announced on refresh) */
	bool opt_tmpl_sent;	/* options template announced */
	bool stats_due;		/* an exporter-statistics record goes into the next message */
};

struct fc_ipfix_enc {
	struct fc_ipfix_enc_opts o;
	struct fc_ipfix_state cur;	/* committed */
	struct fc_ipfix_state next;	/* after the last built message */
	size_t next_flows;		/* flows in the last built message */
};

/* Returns 0, or -EINVAL when max_msg is out of range. */
int fc_ipfix_enc__init(struct fc_ipfix_enc *e, const struct fc_ipfix_enc_opts *o);

/*
 * Forget which templates the collector has: the next messages announce
 * every template used so far (and the options template) again, followed by
 * an exporter-statistics record. For a new TCP connection, a UDP template
 * refresh, or after a send error (the collector may have restarted).
 */
void fc_ipfix_enc__resend_templates(struct fc_ipfix_enc *e);

/* Put an exporter-statistics record into the next message. */
void fc_ipfix_enc__stats_due(struct fc_ipfix_enc *e);

/*
 * Build one message into buf (cap >= max_msg) from as many whole flows of
 * recs[0..n) as fit, after any pending templates and statistics record.
 * export_s is the header's export time (epoch seconds). Sets *consumed to
 * the number of flows encoded. Returns the message length, 0 when there is
 * nothing to send (n == 0 and nothing pending), or -EINVAL (cap too small).
 * Nothing changes until fc_ipfix_enc__commit().
 */
int fc_ipfix_enc__build(struct fc_ipfix_enc *e, const struct fc_flow_rec *recs, size_t n,
			uint32_t export_s, uint8_t *buf, size_t cap, size_t *consumed);

/* The last built message was written: adopt its state. */
void fc_ipfix_enc__commit(struct fc_ipfix_enc *e);

/* Shape of a record under these options (FC_IPFIX_SHAPE_* bits). */
unsigned fc_ipfix_shape(const struct fc_ipfix_enc_opts *o, const struct fc_flow_rec *r);

/*
 * Field list of a data template: fills f (FC_IPFIX_MAX_FIELDS entries) and
 * returns the number of fields; *rec_len gets the data record length.
 */
unsigned fc_ipfix_template_fields(unsigned shape, bool time_ns, struct fc_ipfix_field *f,
				  size_t *rec_len);

/* IANA flowEndReason for a record's end reason. */
uint8_t fc_ipfix_end_reason(uint8_t fc_end_reason);

#endif
