// SPDX-License-Identifier: GPL-2.0
/*
 * vhnetctl: show vhnet instances, read their per-queue statistics and
 * drop counters, and tune them, over the "vhnet" generic netlink family
 * (Documentation/netlink/specs/vhnet.yaml) with libnl-genl-3.
 *
 * One table of commands drives both dispatch and help, so usage text and
 * behaviour cannot drift apart.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/vhnet.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#include "vhnet-counters.h"

#ifndef VHNETCTL_VERSION
#define VHNETCTL_VERSION "unknown"
#endif

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *prog = "vhnetctl";

/* ---- counters ---- */

/*
 * Per-queue counters as vhnetctl names them: ethtool -S style, prefixed
 * with the queue ("rx_packets"). vhnet-counters.h, generated from the
 * spec, lists them with the attribute that carries each; the names are
 * stable: scripts use them.
 */
#define NR_COUNTERS	ARRAY_SIZE(vhnet_counters)
#define NR_QUEUES	2

static const char *const queue_names[NR_QUEUES] = { "rx", "tx" };

struct inst_stats {
	uint32_t id;
	uint64_t c[NR_QUEUES][NR_COUNTERS];
};

struct stats_list {
	struct inst_stats *v;
	size_t n;
};

/* ---- tunables: the keys `set` accepts ---- */

struct tunable {
	const char *name;
	int attr;
	bool is_string;
	const char *help;
};

static const struct tunable tunables[] = {
	{ "tx-batch", VHNET_A_TUNABLES_TX_BATCH, false,
	  "TX descriptors per round before a used-ring flush (1..256)" },
	{ "rx-batch", VHNET_A_TUNABLES_RX_BATCH, false,
	  "packets taken from the tap per round (1..256)" },
	{ "weight-pkts", VHNET_A_TUNABLES_WEIGHT_PKTS, false,
	  "packets per worker pass before yielding (1..65536)" },
	{ "weight-bytes", VHNET_A_TUNABLES_WEIGHT_BYTES, false,
	  "bytes per worker pass before yielding (1500..67108864)" },
	{ "busypoll-us", VHNET_A_TUNABLES_BUSYPOLL_US, false,
	  "busy-poll this long before sleeping, 0 = off (0..100000)" },
	{ "coalesce-pkts", VHNET_A_TUNABLES_COALESCE_PKTS, false,
	  "one guest interrupt per N used buffers, 0 = off (0..1024)" },
	{ "coalesce-us", VHNET_A_TUNABLES_COALESCE_US, false,
	  "... or after this many microseconds, 0 = off (0..100000)" },
	{ "worker-cpus", VHNET_A_TUNABLES_WORKER_CPUS, true,
	  "cpulist the workers may run on, \"\" = any (e.g. 0-3,5)" },
};

/* ---- netlink plumbing ---- */

struct ctx {
	struct nl_sock *sk;
	int family;
	/* Names for attributes of the request, to report a bad attribute. */
	const char *const *attr_names;
	int attr_names_n;
};

struct req {
	int done;
	int err;		/* negative errno from the kernel, 0 on success */
	char msg[256];		/* extack message */
	char detail[128];	/* bad attribute and its policy */
	struct nl_msg *sent;
	const struct ctx *ctx;
	int (*parse)(struct nlmsghdr *nlh, struct nlattr **tb, void *arg);
	int maxattr;
	void *arg;
};

static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct req *r = arg;

	(void)msg;
	r->done = 1;
	return NL_STOP;
}

static const char *attr_name(const struct req *r, int type)
{
	if (r->ctx->attr_names && type >= 0 && type < r->ctx->attr_names_n &&
	    r->ctx->attr_names[type])
		return r->ctx->attr_names[type];
	return NULL;
}

/* Collects the kernel's extended ack: message, bad attribute, its policy. */
static int error_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };
	struct req *r = arg;
	size_t off = sizeof(*e);
	int len;

	(void)nla;
	r->err = e->error;
	r->done = 1;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - (int)off;
	if (len <= 0 ||
	    nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)((char *)e + off),
		      len, NULL) < 0)
		return NL_STOP;

	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(r->msg, sizeof(r->msg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS] && r->sent) {
		struct nlmsghdr *req = nlmsg_hdr(r->sent);
		uint32_t at = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
		const char *name = NULL;

		if (at + sizeof(struct nlattr) <= req->nlmsg_len)
			name = attr_name(r, nla_type((struct nlattr *)((char *)req + at)));
		if (name)
			snprintf(r->detail, sizeof(r->detail), "attribute %s", name);
	}
	if (tb[NLMSGERR_ATTR_POLICY]) {
		struct nlattr *pol[NL_POLICY_TYPE_ATTR_MAX + 1] = { 0 };
		size_t l = strlen(r->detail);

		if (!nla_parse_nested(pol, NL_POLICY_TYPE_ATTR_MAX,
				      tb[NLMSGERR_ATTR_POLICY], NULL) &&
		    pol[NL_POLICY_TYPE_ATTR_MIN_VALUE_U] &&
		    pol[NL_POLICY_TYPE_ATTR_MAX_VALUE_U])
			snprintf(r->detail + l, sizeof(r->detail) - l,
				 "%sallowed %" PRIu64 "..%" PRIu64, l ? ", " : "",
				 nla_get_u64(pol[NL_POLICY_TYPE_ATTR_MIN_VALUE_U]),
				 nla_get_u64(pol[NL_POLICY_TYPE_ATTR_MAX_VALUE_U]));
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE] && !r->detail[0]) {
		const char *name = attr_name(r, nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]));

		snprintf(r->detail, sizeof(r->detail), "missing attribute %s",
			 name ? name : "?");
	}
	return NL_STOP;
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[64] = { 0 };
	struct req *r = arg;

	if (!r->parse)
		return NL_OK;
	if (r->maxattr >= (int)ARRAY_SIZE(tb) ||
	    genlmsg_parse(nlmsg_hdr(msg), 0, tb, r->maxattr, NULL) < 0) {
		r->err = -EBADMSG;
		return NL_SKIP;
	}
	if (r->parse(nlmsg_hdr(msg), tb, r->arg))
		r->err = -ENOMEM;
	return NL_OK;
}

static int ctx_open(struct ctx *ctx)
{
	int one = 1;
	int err;

	ctx->sk = nl_socket_alloc();
	if (!ctx->sk) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	err = genl_connect(ctx->sk);
	if (err < 0) {
		fprintf(stderr, "%s: cannot open a generic netlink socket: %s\n",
			prog, nl_geterror(err));
		return -1;
	}
	/* Ask the kernel to explain refusals; shown with every error. */
	setsockopt(nl_socket_get_fd(ctx->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	ctx->family = genl_ctrl_resolve(ctx->sk, VHNET_FAMILY_NAME);
	if (ctx->family < 0) {
		fprintf(stderr,
			"%s: the kernel has no \"%s\" generic netlink family: is the vhnet module loaded?\n",
			prog, VHNET_FAMILY_NAME);
		return -1;
	}
	return 0;
}

static struct nl_msg *req_msg(const struct ctx *ctx, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, ctx->family, 0, flags,
			 cmd, VHNET_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * Sends @msg (consumed) and processes replies until the kernel's ack, error
 * or end of dump. Returns 0 or a negative errno, with the kernel's
 * explanation printed under @what.
 */
static int req_run(const struct ctx *ctx, struct nl_msg *msg, const char *what,
		   int (*parse)(struct nlmsghdr *nlh, struct nlattr **tb, void *arg),
		   int maxattr,
		   void *arg)
{
	struct req r = {
		.sent = msg, .ctx = ctx, .parse = parse, .maxattr = maxattr,
		.arg = arg,
	};
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, finish_cb, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, error_cb, &r);

	ret = nl_send_auto(ctx->sk, msg);
	if (ret < 0) {
		r.err = -EIO;
		snprintf(r.msg, sizeof(r.msg), "%s", nl_geterror(ret));
		r.done = 1;
	}
	while (!r.done) {
		ret = nl_recvmsgs(ctx->sk, cb);
		if (ret < 0 && !r.done) {
			r.err = -EIO;
			snprintf(r.msg, sizeof(r.msg), "%s", nl_geterror(ret));
			break;
		}
	}
	nl_cb_put(cb);
	nlmsg_free(msg);

	if (r.err) {
		fprintf(stderr, "%s: %s: %s", prog, what, strerror(-r.err));
		if (r.err == -EPERM)
			fprintf(stderr, " (needs CAP_NET_ADMIN)");
		if (r.msg[0])
			fprintf(stderr, ": %s", r.msg);
		if (r.detail[0])
			fprintf(stderr, " (%s)", r.detail);
		fputc('\n', stderr);
	}
	return r.err;
}

/* ---- argument helpers ---- */

/* Parses an instance id (1..UINT32_MAX). */
static int parse_id(const char *s, uint32_t *id)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > UINT32_MAX) {
		fprintf(stderr, "%s: \"%s\" is not an instance id (a number >= 1)\n",
			prog, s);
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

static int parse_u32(const char *key, const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > UINT32_MAX) {
		fprintf(stderr, "%s: %s: \"%s\" is not a number from 0 to %u\n",
			prog, key, s, UINT32_MAX);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* No SA_RESTART: a blocking receive must return so the loop sees @stop. */
static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ---- show ---- */

static const char *const queue_state_names[] = { "stopped", "running", "broken" };
static const char *const broken_names[] = {
	"none", "bad-index", "bad-chain", "bad-addr", "bad-access", "bad-log",
};

static const char *enum_name(const char *const *names, size_t n, uint32_t v)
{
	return v < n ? names[v] : "unknown";
}

static int print_tunables(struct nlmsghdr *nlh, struct nlattr **tb, void *arg)
{
	const char *indent = arg;
	size_t i;

	(void)nlh;
	printf("%s", indent);
	for (i = 0; i < ARRAY_SIZE(tunables); i++) {
		struct nlattr *a = tb[tunables[i].attr];

		if (!a)
			continue;
		if (tunables[i].is_string)
			printf("%s %s", tunables[i].name,
			       nla_get_string(a)[0] ? nla_get_string(a) : "any");
		else
			printf("%s %u", tunables[i].name, nla_get_u32(a));
		printf(i + 1 < ARRAY_SIZE(tunables) ? " " : "\n");
	}
	return 0;
}

static int show_tunables(struct ctx *ctx, uint32_t id, const char *indent)
{
	struct nl_msg *msg = req_msg(ctx, VHNET_CMD_TUNABLES_GET, 0);

	if (!msg)
		return -ENOMEM;
	if (id && nla_put_u32(msg, VHNET_A_TUNABLES_ID, id) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return req_run(ctx, msg, "tunables", print_tunables,
		       VHNET_A_TUNABLES_MAX, (void *)indent);
}

typedef void (*attr_fn_t)(struct nlattr *a, void *arg);

/* Calls @fn for every attribute of type @type directly in the message. */
static void walk_top_attrs(struct nlmsghdr *nlh, int type, attr_fn_t fn,
			   void *arg)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0), rem)
		if (nla_type(a) == type)
			fn(a, arg);
}

static void print_queue(struct nlattr *nest, void *arg)
{
	struct nlattr *tb[VHNET_A_QUEUE_MAX + 1] = { 0 };
	uint32_t idx;

	(void)arg;
	if (nla_parse_nested(tb, VHNET_A_QUEUE_MAX, nest, NULL) < 0 ||
	    !tb[VHNET_A_QUEUE_INDEX])
		return;
	idx = nla_get_u32(tb[VHNET_A_QUEUE_INDEX]);
#define Q32(x) (tb[x] ? nla_get_u32(tb[x]) : 0)
	printf("  %s: ring %u avail-idx %u used-idx %u state %s",
	       enum_name(queue_names, NR_QUEUES, idx), Q32(VHNET_A_QUEUE_RING_SIZE),
	       Q32(VHNET_A_QUEUE_LAST_AVAIL_IDX), Q32(VHNET_A_QUEUE_USED_IDX),
	       enum_name(queue_state_names, ARRAY_SIZE(queue_state_names),
			 Q32(VHNET_A_QUEUE_STATE)));
	if (Q32(VHNET_A_QUEUE_STATE) == VHNET_QUEUE_STATE_BROKEN)
		printf(" (%s)", enum_name(broken_names, ARRAY_SIZE(broken_names),
					  Q32(VHNET_A_QUEUE_BROKEN_REASON)));
	if (Q32(VHNET_A_QUEUE_WORKER_PID))
		printf(" worker-pid %u worker-cpu %d", Q32(VHNET_A_QUEUE_WORKER_PID),
		       tb[VHNET_A_QUEUE_WORKER_CPU] ?
		       (int32_t)nla_get_u32(tb[VHNET_A_QUEUE_WORKER_CPU]) : -1);
	if (Q32(VHNET_A_QUEUE_WORKER_PID) && tb[VHNET_A_QUEUE_WORKER_CPUS])
		printf(" worker-cpus %s", nla_get_string(tb[VHNET_A_QUEUE_WORKER_CPUS]));
	else if (!Q32(VHNET_A_QUEUE_WORKER_PID))
		printf(" worker none");
	printf("\n");
#undef Q32
}

struct show_arg {
	uint32_t *ids;
	size_t n;
	bool oom;
};

static int print_instance(struct nlmsghdr *nlh, struct nlattr **tb, void *arg)
{
	struct show_arg *s = arg;
	uint32_t id, *v;

	if (!tb[VHNET_A_INSTANCE_ID])
		return 0;
	id = nla_get_u32(tb[VHNET_A_INSTANCE_ID]);
	printf("instance %u: owner-pid %u", id,
	       tb[VHNET_A_INSTANCE_OWNER_PID] ?
	       nla_get_u32(tb[VHNET_A_INSTANCE_OWNER_PID]) : 0);
	if (tb[VHNET_A_INSTANCE_TAP_IFINDEX] &&
	    nla_get_u32(tb[VHNET_A_INSTANCE_TAP_IFINDEX]))
		printf(" tap %s ifindex %u",
		       tb[VHNET_A_INSTANCE_TAP_NAME] &&
		       nla_get_string(tb[VHNET_A_INSTANCE_TAP_NAME])[0] ?
		       nla_get_string(tb[VHNET_A_INSTANCE_TAP_NAME]) : "?",
		       nla_get_u32(tb[VHNET_A_INSTANCE_TAP_IFINDEX]));
	else
		printf(" tap none");
	if (tb[VHNET_A_INSTANCE_FEATURES])
		printf(" features 0x%" PRIx64,
		       (uint64_t)nla_get_u64(tb[VHNET_A_INSTANCE_FEATURES]));
	printf("\n");
	walk_top_attrs(nlh, VHNET_A_INSTANCE_QUEUE, print_queue, NULL);

	/* Tunables are fetched after the dump: one request at a time. */
	v = realloc(s->ids, (s->n + 1) * sizeof(*v));
	if (!v) {
		s->oom = true;
		return -1;
	}
	v[s->n++] = id;
	s->ids = v;
	return 0;
}

static int cmd_show(struct ctx *ctx, int argc, char **argv)
{
	struct show_arg s = { 0 };
	struct nl_msg *msg;
	uint32_t id = 0;
	size_t i;
	int err;

	if (argc > 1) {
		fprintf(stderr, "%s: show: too many arguments\n", prog);
		return -EINVAL;
	}
	if (argc == 1 && !strcmp(argv[0], "default")) {
		printf("defaults:\n");
		return show_tunables(ctx, 0, "  tunables: ");
	}
	if (argc == 1 && parse_id(argv[0], &id))
		return -EINVAL;

	msg = req_msg(ctx, VHNET_CMD_INSTANCE_GET, id ? 0 : NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (id && nla_put_u32(msg, VHNET_A_INSTANCE_ID, id) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	/*
	 * A second request cannot run inside the dump's callbacks, so the
	 * tunables come after the instances, each line naming its id.
	 */
	err = req_run(ctx, msg, "show", print_instance, VHNET_A_INSTANCE_MAX, &s);
	for (i = 0; !err && i < s.n; i++) {
		printf("instance %u ", s.ids[i]);
		err = show_tunables(ctx, s.ids[i], "tunables: ");
	}
	if (!err && !id && !s.n)
		printf("no instances in this network namespace\n");
	free(s.ids);
	return err;
}

/* ---- stats ---- */

static void parse_queue_stats(struct nlattr *nest, void *arg)
{
	struct nlattr *tb[VHNET_A_QUEUE_STATS_MAX + 1] = { 0 };
	struct inst_stats *st = arg;
	uint32_t idx;
	size_t k;

	if (nla_parse_nested(tb, VHNET_A_QUEUE_STATS_MAX, nest, NULL) < 0 ||
	    !tb[VHNET_A_QUEUE_STATS_INDEX])
		return;
	idx = nla_get_u32(tb[VHNET_A_QUEUE_STATS_INDEX]);
	if (idx >= NR_QUEUES)
		return;
	for (k = 0; k < NR_COUNTERS; k++) {
		const struct vhnet_counter_desc *d = &vhnet_counters[k];
		struct nlattr *a = d->nest ? tb[d->nest] : tb[d->attr];

		if (a && d->nest)
			a = nla_find(nla_data(a), nla_len(a), d->attr);
		if (a && nla_len(a) == sizeof(uint64_t))
			st->c[idx][k] = nla_get_u64(a);
	}
}

static int collect_stats(struct nlmsghdr *nlh, struct nlattr **tb, void *arg)
{
	struct stats_list *l = arg;
	struct inst_stats *v;

	if (!tb[VHNET_A_STATS_ID])
		return 0;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	v = &l->v[l->n++];
	memset(v, 0, sizeof(*v));
	v->id = nla_get_u32(tb[VHNET_A_STATS_ID]);
	walk_top_attrs(nlh, VHNET_A_STATS_QUEUE, parse_queue_stats, v);
	return 0;
}

static int read_stats(struct ctx *ctx, uint32_t id, struct stats_list *l)
{
	struct nl_msg *msg = req_msg(ctx, VHNET_CMD_STATS_GET, id ? 0 : NLM_F_DUMP);

	l->v = NULL;
	l->n = 0;
	if (!msg)
		return -ENOMEM;
	if (id && nla_put_u32(msg, VHNET_A_STATS_ID, id) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return req_run(ctx, msg, "stats", collect_stats, VHNET_A_STATS_MAX, l);
}

/* @prev and @secs set: print per-second rates of @cur against @prev. */
static void print_stats(const struct stats_list *cur, const struct stats_list *prev,
			double secs, bool json)
{
	size_t i, j, q, k;

	if (json)
		printf("[");
	for (i = 0; i < cur->n; i++) {
		const struct inst_stats *s = &cur->v[i];
		const struct inst_stats *p = NULL;

		for (j = 0; prev && j < prev->n; j++)
			if (prev->v[j].id == s->id)
				p = &prev->v[j];
		if (prev && !p)
			continue;	/* new instance: no rate yet */
		if (json)
			printf("%s{\"id\":%u", i ? "," : "", s->id);
		else
			printf("instance %u %s:\n", s->id,
			       prev ? "rates per second" : "statistics");
		for (q = 0; q < NR_QUEUES; q++) {
			for (k = 0; k < NR_COUNTERS; k++) {
				char name[64];

				snprintf(name, sizeof(name), "%s_%s", queue_names[q],
					 vhnet_counters[k].name);
				if (p) {
					/* Counters only go back across a reset. */
					uint64_t d = s->c[q][k] >= p->c[q][k] ?
						     s->c[q][k] - p->c[q][k] : s->c[q][k];
					double rate = d / secs;

					if (json)
						printf(",\"%s\":%.1f", name, rate);
					else
						printf("     %s: %.1f\n", name, rate);
				} else if (json) {
					printf(",\"%s\":%" PRIu64, name, s->c[q][k]);
				} else {
					printf("     %s: %" PRIu64 "\n", name, s->c[q][k]);
				}
			}
		}
		if (json)
			printf("}");
	}
	if (json)
		printf("]\n");
	fflush(stdout);
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_stats(struct ctx *ctx, int argc, char **argv)
{
	struct stats_list cur, prev = { 0 };
	unsigned long watch = 0, count = 0, n;
	bool json = false;
	double t0, t1;
	uint32_t id = 0;
	int i, err;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if ((!strcmp(argv[i], "--watch") || !strcmp(argv[i], "-w") ||
			    !strcmp(argv[i], "--count")) && i + 1 < argc) {
			uint32_t v;

			if (parse_u32(argv[i], argv[i + 1], &v) || !v) {
				fprintf(stderr, "%s: stats: %s needs a number >= 1\n",
					prog, argv[i]);
				return -EINVAL;
			}
			if (!strcmp(argv[i], "--count"))
				count = v;
			else
				watch = v;
			i++;
		} else if (!id && argv[i][0] != '-') {
			if (parse_id(argv[i], &id))
				return -EINVAL;
		} else {
			fprintf(stderr, "%s: stats: unexpected argument \"%s\"\n",
				prog, argv[i]);
			return -EINVAL;
		}
	}

	err = read_stats(ctx, id, &cur);
	if (err)
		return err;
	if (!watch) {
		if (!json && !cur.n)
			printf("no instances in this network namespace\n");
		print_stats(&cur, NULL, 0, json);
		free(cur.v);
		return 0;
	}

	catch_stop_signals();
	t0 = now_sec();
	for (n = 0; !stop && (!count || n < count); n++) {
		/* Sleep may end early on a signal; rates use the real interval. */
		sleep(watch);
		if (stop)
			break;
		free(prev.v);
		prev = cur;
		err = read_stats(ctx, id, &cur);
		if (err) {
			cur.v = NULL;
			break;
		}
		t1 = now_sec();
		print_stats(&cur, &prev, t1 - t0 > 0 ? t1 - t0 : 1, json);
		t0 = t1;
	}
	free(prev.v);
	free(cur.v);
	return err;
}

static int cmd_stats_reset(struct ctx *ctx, int argc, char **argv)
{
	struct nl_msg *msg;
	uint32_t id = 0;

	if (argc > 1) {
		fprintf(stderr, "%s: stats reset: too many arguments\n", prog);
		return -EINVAL;
	}
	if (argc == 1 && parse_id(argv[0], &id))
		return -EINVAL;
	msg = req_msg(ctx, VHNET_CMD_STATS_RESET, 0);
	if (!msg)
		return -ENOMEM;
	if (id && nla_put_u32(msg, VHNET_A_STATS_ID, id) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return req_run(ctx, msg, "stats reset", NULL, 0, NULL);
}

/* ---- set ---- */

static const char *const tunables_attr_names[VHNET_A_TUNABLES_MAX + 1] = {
	[VHNET_A_TUNABLES_ID] = "id",
	[VHNET_A_TUNABLES_TX_BATCH] = "tx-batch",
	[VHNET_A_TUNABLES_RX_BATCH] = "rx-batch",
	[VHNET_A_TUNABLES_WEIGHT_PKTS] = "weight-pkts",
	[VHNET_A_TUNABLES_WEIGHT_BYTES] = "weight-bytes",
	[VHNET_A_TUNABLES_BUSYPOLL_US] = "busypoll-us",
	[VHNET_A_TUNABLES_COALESCE_PKTS] = "coalesce-pkts",
	[VHNET_A_TUNABLES_COALESCE_US] = "coalesce-us",
	[VHNET_A_TUNABLES_WORKER_CPUS] = "worker-cpus",
};

static int cmd_set(struct ctx *ctx, int argc, char **argv)
{
	struct nl_msg *msg;
	uint32_t id = 0;
	int i, err;

	if (argc < 3 || (argc - 1) % 2) {
		fprintf(stderr, "%s: set: need ID|default and KEY VALUE pairs\n", prog);
		return -EINVAL;
	}
	if (strcmp(argv[0], "default") && parse_id(argv[0], &id))
		return -EINVAL;
	msg = req_msg(ctx, VHNET_CMD_TUNABLES_SET, 0);
	if (!msg)
		return -ENOMEM;
	err = id ? nla_put_u32(msg, VHNET_A_TUNABLES_ID, id) : 0;
	for (i = 1; !err && i < argc; i += 2) {
		const struct tunable *t = NULL;
		uint32_t v;
		size_t k;

		for (k = 0; k < ARRAY_SIZE(tunables); k++)
			if (!strcmp(argv[i], tunables[k].name))
				t = &tunables[k];
		if (!t) {
			fprintf(stderr, "%s: set: unknown key \"%s\" (see %s set --help)\n",
				prog, argv[i], prog);
			nlmsg_free(msg);
			return -EINVAL;
		}
		if (t->is_string) {
			err = nla_put_string(msg, t->attr, argv[i + 1]);
		} else {
			if (parse_u32(argv[i], argv[i + 1], &v)) {
				nlmsg_free(msg);
				return -EINVAL;
			}
			err = nla_put_u32(msg, t->attr, v);
		}
	}
	if (err < 0) {
		fprintf(stderr, "%s: set: request too large\n", prog);
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ctx->attr_names = tunables_attr_names;
	ctx->attr_names_n = ARRAY_SIZE(tunables_attr_names);
	return req_run(ctx, msg, "set", NULL, 0, NULL);
}

/* ---- monitor ---- */

static int print_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *tb[VHNET_A_INSTANCE_MAX + 1] = { 0 };
	const char *what;

	if (nlh->nlmsg_type != ((struct ctx *)arg)->family)
		return NL_SKIP;
	switch (g->cmd) {
	case VHNET_CMD_INSTANCE_ADD_NTF:
		what = "created";
		break;
	case VHNET_CMD_INSTANCE_DEL_NTF:
		what = "destroyed";
		break;
	default:
		return NL_SKIP;
	}
	if (genlmsg_parse(nlh, 0, tb, VHNET_A_INSTANCE_MAX, NULL) < 0 ||
	    !tb[VHNET_A_INSTANCE_ID])
		return NL_SKIP;
	printf("instance %u %s owner-pid %u\n", nla_get_u32(tb[VHNET_A_INSTANCE_ID]),
	       what, tb[VHNET_A_INSTANCE_OWNER_PID] ?
	       nla_get_u32(tb[VHNET_A_INSTANCE_OWNER_PID]) : 0);
	fflush(stdout);
	return NL_OK;
}

static int cmd_monitor(struct ctx *ctx, int argc, char **argv)
{
	int grp, err;

	(void)argv;
	if (argc) {
		fprintf(stderr, "%s: monitor: takes no arguments\n", prog);
		return -EINVAL;
	}
	grp = genl_ctrl_resolve_grp(ctx->sk, VHNET_FAMILY_NAME, VHNET_MCGRP_MONITOR);
	if (grp < 0) {
		fprintf(stderr, "%s: monitor: no \"%s\" multicast group: %s\n",
			prog, VHNET_MCGRP_MONITOR, nl_geterror(grp));
		return -ENOENT;
	}
	/* Events carry no sequence number of ours. */
	nl_socket_disable_seq_check(ctx->sk);
	nl_socket_modify_cb(ctx->sk, NL_CB_VALID, NL_CB_CUSTOM, print_event, ctx);
	err = nl_socket_add_membership(ctx->sk, grp);
	if (err < 0) {
		fprintf(stderr, "%s: monitor: cannot join the group: %s\n",
			prog, nl_geterror(err));
		return -EIO;
	}
	catch_stop_signals();
	/* A line per event, flushed, so that pipes see it at once. */
	printf("monitoring vhnet instances (Ctrl-C to stop)\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd pfd = { .fd = nl_socket_get_fd(ctx->sk), .events = POLLIN };

		/* libnl retries recvmsg() on EINTR; poll() lets a signal end us. */
		if (poll(&pfd, 1, -1) < 0)
			continue;
		err = nl_recvmsgs_default(ctx->sk);
		if (err < 0 && !stop && err != -NLE_INTR) {
			fprintf(stderr, "%s: monitor: %s\n", prog, nl_geterror(err));
			return -EIO;
		}
	}
	return 0;
}

/* ---- the command table ---- */

struct command {
	const char *name;	/* one or two words */
	const char *args;
	const char *help;
	int (*handler)(struct ctx *ctx, int argc, char **argv);
};

static const struct command commands[] = {
	{ "show", "[ID|default]",
	  "show instances of this network namespace: owner, tap, features, queues\n"
	  "(ring size, indices, state, worker pid and CPU) and tunables;\n"
	  "\"default\" shows the module-wide defaults new instances start with",
	  cmd_show },
	{ "stats", "[ID] [--json] [--watch SECONDS [--count N]]",
	  "per-queue counters, batch-size histogram and drops by reason, one\n"
	  "counter a line (ethtool -S style); --json for machines; --watch prints\n"
	  "per-second rates every SECONDS (N times, or until interrupted)",
	  cmd_stats },
	{ "stats reset", "[ID]",
	  "zero the counters of one instance, or of every instance of this\n"
	  "network namespace (needs CAP_NET_ADMIN)",
	  cmd_stats_reset },
	{ "set", "ID|default KEY VALUE [KEY VALUE...]",
	  "change tunables of a running instance, or the module-wide defaults\n"
	  "(needs CAP_NET_ADMIN); keys:",
	  cmd_set },
	{ "monitor", "",
	  "print instances as they are created and destroyed",
	  cmd_monitor },
};

static void print_command_help(FILE *f, const struct command *c, bool full)
{
	const char *p;

	fprintf(f, "  %s %s%s%s\n", prog, c->name, c->args[0] ? " " : "", c->args);
	if (!full)
		return;
	fprintf(f, "      ");
	for (p = c->help; *p; p++) {
		fputc(*p, f);
		if (*p == '\n')
			fprintf(f, "      ");
	}
	fputc('\n', f);
	if (c->handler == cmd_set) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(tunables); i++)
			fprintf(f, "        %-14s %s\n", tunables[i].name, tunables[i].help);
	}
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [ARGS]\n       %s --version | --help\n\ncommands:\n",
		prog, prog);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		print_command_help(f, &commands[i], true);
	fprintf(f, "\n%s COMMAND --help shows one command. See vhnetctl(8).\n", prog);
}

/* Number of argv words @c's name matches (0: no match). */
static int command_match(const struct command *c, int argc, char **argv)
{
	const char *sp = strchr(c->name, ' ');

	if (!sp)
		return argc >= 1 && !strcmp(argv[0], c->name) ? 1 : 0;
	if (argc < 2 || strncmp(argv[0], c->name, sp - c->name) ||
	    argv[0][sp - c->name] || strcmp(argv[1], sp + 1))
		return 0;
	return 2;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	struct ctx ctx = { 0 };
	int i, words = 0, err;

	argc--;
	argv++;
	if (!argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[0], "--version") || !strcmp(argv[0], "-V")) {
		printf("%s %s\n", prog, VHNETCTL_VERSION);
		return 0;
	}
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
	    !strcmp(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	/* Longest name wins: "stats reset" before "stats". */
	for (i = 0; i < (int)ARRAY_SIZE(commands); i++) {
		int m = command_match(&commands[i], argc, argv);

		if (m > words) {
			words = m;
			cmd = &commands[i];
		}
	}
	if (!cmd) {
		fprintf(stderr, "%s: unknown command \"%s\"\n\n", prog, argv[0]);
		usage(stderr);
		return 2;
	}
	for (i = words; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage:\n");
			print_command_help(stdout, cmd, true);
			return 0;
		}
	}

	if (ctx_open(&ctx)) {
		if (ctx.sk)
			nl_socket_free(ctx.sk);
		return 1;
	}
	err = cmd->handler(&ctx, argc - words, argv + words);
	nl_socket_free(ctx.sk);
	return err ? 1 : 0;
}
