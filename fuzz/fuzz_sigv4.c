/*
 * libFuzzer target: the SigV4 verifier sigil-kms runs on every request.
 * The input is split on newlines into an Authorization value, an x-amz-date
 * value, an x-amz-security-token value and the body; a request the verifier
 * accepts must carry the signature the signer computes for it.
 */
#include <string.h>

#include "sigil/kms.h"

static sigil_aws_creds creds;

static size_t next_line(const uint8_t *p, size_t n, size_t off)
{
    while (off < n && p[off] != '\n')
        off++;
    return off;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sigil_init() != 0 ||
            sigil_aws_creds_set(&creds, "AKIDEXAMPLE", 11,
                                (const uint8_t *)"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 40,
                                "token", 5, "us-east-1", 9) != 0)
            __builtin_trap();
        ready = 1;
    }
    size_t a = next_line(data, size, 0);
    size_t d = next_line(data, size, a + 1 < size ? a + 1 : size);
    size_t t = next_line(data, size, d + 1 < size ? d + 1 : size);
    size_t body = t + 1 < size ? t + 1 : size;
    const char *s = (const char *)data;
    sigil_http_header h[] = {
        {{"host", 4}, {"kms.us-east-1.amazonaws.com", 27}},
        {{"Authorization", 13}, {s, a}},
        {{"X-Amz-Date", 10}, {s + (a < size ? a + 1 : size), d > a ? d - a - 1 : 0}},
        {{"x-amz-security-token", 20}, {s + (d < size ? d + 1 : size), t > d ? t - d - 1 : 0}},
    };
    sigil_sigv4_request req = {"POST", "/", "", h, 4, data + body, size - body, "kms"};
    time_t now = 1440938160; /* 20150830T123600Z */
    if (sigil_sigv4_verify(&creds, &req, now, 300) != 0)
        return 0;
    /* Accepted: only with the real signature, which needs the secret. */
    __builtin_trap();
}
