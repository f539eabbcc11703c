/* `loy certs dev`: development certificates for Apple Wallet signing and the fake APNs, so that
 * `make run` and the tests work with no Apple account (see crypto/devcerts.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "crypto/devcerts.h"

static const char certs_help[] =
	"usage: loy certs dev --out DIR [--pass-type-id ID] [--team-id ID] [--org NAME]\n"
	"                     [--p12-password PW] [--force]\n\n"
	"Creates development certificates in DIR (made if missing), for a server with no Apple\n"
	"account. Never use them in production: Wallet on a real iPhone refuses their passes.\n\n"
	"  ca.pem, ca.key                 root CA (trust it in tests: openssl cms -verify -CAfile)\n"
	"  wwdr.pem, wwdr.key             intermediate standing in for Apple WWDR G4\n"
	"  pass.pem, pass.key, pass.p12   Pass Type ID certificate, its key, both as .p12\n"
	"  localhost.pem, localhost.key   TLS server certificate for localhost (the fake APNs)\n\n"
	"  --pass-type-id ID   the certificate's pass type id (default pass.dev.loy.demo)\n"
	"  --team-id ID        its team id (default LOYDEV0001)\n"
	"  --org NAME          the organisation in every subject (default \"Loy Development\")\n"
	"  --p12-password PW   password of pass.p12 (default: none)\n"
	"  --force             replace existing files (by default they are kept)\n\n"
	"Keys are written mode 0600. Point LOY_APPLE_PASS_CERT, LOY_APPLE_PASS_KEY and\n"
	"LOY_APPLE_WWDR_CERT at pass.pem, pass.key and wwdr.pem.\n";

static int usage_of(int rc)
{
	fputs(certs_help, rc == 0 ? stdout : stderr);
	return rc;
}

static void report(const char *path, enum devcerts_action action, void *arg)
{
	const struct devcerts_options *o = arg;

	if (action == DEVCERTS_WROTE)
		printf("wrote %s\n", path);
	else
		printf("kept  %s\n", path);
	if (action == DEVCERTS_KEPT_DIFFERENT)
		fprintf(stderr,
			"note: %s was made with other options than --pass-type-id %s --team-id %s "
			"--org \"%s\"; --force makes new ones\n",
			path, o->pass_type_id, o->team_id, o->org);
}

int cli_certs(int argc, char **argv)
{
	static const struct option opts[] = { { "out", required_argument, NULL, 'o' },
					      { "pass-type-id", required_argument, NULL, 'p' },
					      { "team-id", required_argument, NULL, 't' },
					      { "org", required_argument, NULL, 'g' },
					      { "p12-password", required_argument, NULL, 'w' },
					      { "force", no_argument, NULL, 'f' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	struct devcerts_options o = DEVCERTS_OPTIONS_DEFAULT;
	const char *out = NULL, *why;
	int opt;

	if (argc < 2 || strcmp(argv[1], "dev") != 0)
		return usage_of(
			argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
				? 0
				: 2);
	argc--, argv++;
	while ((opt = getopt_long(argc, argv, "o:p:t:g:w:fh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			o.pass_type_id = optarg;
			break;
		case 't':
			o.team_id = optarg;
			break;
		case 'g':
			o.org = optarg;
			break;
		case 'w':
			o.p12_password = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		default:
			return usage_of(opt == 'h' ? 0 : 2);
		}
	}
	if (!out || optind != argc) {
		fprintf(stderr, "loy certs dev: --out DIR is required (and nothing else)\n\n");
		return usage_of(2);
	}
	why = devcerts_check_options(&o);
	if (why) {
		fprintf(stderr, "loy certs dev: %s\n", why);
		return 2;
	}
	if (devcerts_create(out, &o, report, &o) != LOY_OK) {
		fprintf(stderr, "loy certs dev: failed (the log line above says why)\n");
		return 1;
	}
	return 0;
}
