/*
 * Command-line options from a table (cli.h cli_opt): each subcommand's
 * parser is its table, then the checks that relate its options.
 */
#include <getopt.h>

#include "cli/cli.h"

/* getopt_long's value for table entry i: above every character and '?'. */
#define OPT_VAL_BASE 0x100

static void clear(const cli_opt *o)
{
    if (o->flag != NULL)
        *o->flag = false;
    else
        *o->value = NULL;
}

static int take(const cli_opt *o, const char *what)
{
    bool given = o->flag != NULL ? *o->flag : *o->value != NULL;
    ENSURE(!given, SIGIL_E_USAGE, "%s: an option is given twice", what);
    if (o->flag != NULL)
        *o->flag = true;
    else
        *o->value = optarg;
    return 0;
}

int cli_options(int argc, char **argv, const cli_opt *opts, size_t n, int *rest, const char *usage,
                const char *what)
{
    struct option longs[CLI_OPTS_MAX + 1];
    int opt;
    ENSURE(n <= CLI_OPTS_MAX, SIGIL_E_INTERNAL, "%s: more than %d options", what, CLI_OPTS_MAX);
    for (size_t i = 0; i < n; i++) {
        longs[i] =
            (struct option){opts[i].name, opts[i].flag != NULL ? no_argument : required_argument,
                            NULL, OPT_VAL_BASE + (int)i};
        clear(&opts[i]);
    }
    longs[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        ENSURE(opt >= OPT_VAL_BASE && opt < OPT_VAL_BASE + (int)n, SIGIL_E_USAGE, "%s", usage);
        GUARD(take(&opts[opt - OPT_VAL_BASE], what));
    }
    if (rest != NULL)
        *rest = optind;
    else
        ENSURE(optind == argc, SIGIL_E_USAGE, "%s: unexpected argument", what);
    for (size_t i = 0; i < n; i++)
        ENSURE(!opts[i].required || *opts[i].value != NULL, SIGIL_E_USAGE, "%s: --%s is required",
               what, opts[i].name);
    return 0;
}
