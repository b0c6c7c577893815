/*
 * The benchmark's floor (`npm run bench`): the same operations as the library, calling secur32 directly
 * from one C thread, with the request flags the library uses by default (DEFAULT_ISC_REQ /
 * DEFAULT_ASC_REQ of lib/context.ts) and caller-supplied 12,000-byte token buffers (the library's
 * default allocation mode). Built by scripts/bench.sh with MinGW-w64 (x86_64-w64-mingw32-gcc -O2 ...
 * -lsecur32). node.exe under Wine cannot read a child's pipe, so results go to a file.
 *
 *   floor.exe handshake <package> <seconds> <output file> <target name, or - for none>
 *
 * In-process handshakes of <package> (Kerberos, Negotiate or NTLM) for about <seconds>: client
 * InitializeSecurityContext and server AcceptSecurityContext in turn until both return SEC_E_OK (the
 * legs the package needs: Kerberos AP-REQ / AP-REP; NTLM NEGOTIATE / CHALLENGE / AUTHENTICATE), then
 * both DeleteSecurityContext. The client credentials are the logon's (the ticket cache), or, when
 * SSPI_FLOOR_USER is set, the explicit identity SSPI_FLOOR_USER / SSPI_FLOOR_DOMAIN /
 * SSPI_FLOOR_PASSWORD as SEC_WINNT_AUTH_IDENTITY_W (Unicode), as the library's
 * Credentials.acquire({ identity }) passes it (environment, not arguments: the password stays out of
 * the process list). Writes one line: "<handshakes> <elapsed seconds> <median ms> <slowest ms>" (the
 * milliseconds of one handshake, median and largest).
 *
 *   floor.exe message <seconds> <output file> <SPN> <seal trailer bytes> <size>...
 *
 * One Kerberos handshake to <SPN>, then for each <size>, about <seconds> each of:
 * - "sign": MakeSignature on the client context (SECBUFFER_DATA <size> bytes, SECBUFFER_TOKEN of
 *   cbMaxSignature bytes from SECPKG_ATTR_SIZES) then VerifySignature of it on the server context;
 * - "seal": the plaintext copied into the DATA buffer (EncryptMessage encrypts in place, as the
 *   library's copy of the caller's bytes), EncryptMessage on the client context with SECBUFFER_TOKEN
 *   of <seal trailer bytes>, DATA, SECBUFFER_PADDING of cbBlockSize, then DecryptMessage on the server
 *   context with TOKEN (as long as EncryptMessage wrote it) + DATA, in place.
 * One operation is one signature made and verified, or one message sealed and unsealed. Writes one
 * line per figure: "<sign|seal> <size> <operations> <elapsed seconds>".
 * The trailer: the library's wrap() sizes SECBUFFER_TOKEN as cbSecurityTrailer says; Wine 10's Kerberos
 * needs 60 bytes for an AES token with confidentiality where cbSecurityTrailer says 49
 * (/work/shared/notes/linux-rig.md; SEC_E_BUFFER_TOO_SMALL otherwise), so the bench passes the same
 * trailer size here as to its raw-layer contender: cbSecurityTrailer on Microsoft's secur32, 60 under
 * Wine (the larger of the two). The buffers are allocated once and reused, as a C program would.
 *
 *   floor.exe calls <seconds> <output file> <target name>
 *
 * Kerberos handshakes (AP-REQ, AP-REP: ISC, ASC, ISC, then both DeleteSecurityContext) for about
 * <seconds>, each call timed: writes "<handshakes> <ISC AP-REQ> <ASC> <ISC AP-REP> <both deletes>", the
 * mean microseconds of each (bench/pieces.bench.ts times the raw layer's same calls the same way).
 *
 *   floor.exe rss <count> <output file> <target name>
 *
 * Memory of the same Kerberos handshakes in C: 2,000 warm-up handshakes, then <count> more; writes one
 * line "<before> <half-way> <after>", the process's working set in bytes (GetProcessMemoryInfo, what
 * node's process.memoryUsage().rss reads on Windows) after the warm-up, half-way and at the end. It
 * shows what secur32 itself keeps per handshake, beside the library's figure.
 *
 * Exit 0, or 1 with the failing call on stderr.
 */
#define SECURITY_WIN32
#include <windows.h>
#include <psapi.h>
#include <sspi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_BYTES 12000
#define MAX_LEGS 10

static const ULONG ISC_FLAGS = ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT |
                               ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION;
static const ULONG ASC_FLAGS = ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONFIDENTIALITY |
                               ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION;

static int fail(const char *what, SECURITY_STATUS status) {
  fprintf(stderr, "floor: %s returned 0x%08lx\n", what, (unsigned long)status);
  return 1;
}

static LARGE_INTEGER frequency;

static double now_seconds(void) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  return (double)t.QuadPart / (double)frequency.QuadPart;
}

static wchar_t *wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s, -1, NULL, 0);
  wchar_t *w = malloc(sizeof(wchar_t) * (n > 0 ? n : 1));
  if (!w || n <= 0 || !MultiByteToWideChar(CP_UTF8, 0, s, -1, w, n)) {
    if (w) w[0] = 0;
  }
  return w;
}

/* The client's and the server's credentials for <package>; explicit client identity from the environment. */
static int acquire(const wchar_t *package, CredHandle *client, CredHandle *server) {
  TimeStamp expiry;
  SEC_WINNT_AUTH_IDENTITY_W identity, *auth = NULL;
  const char *user = getenv("SSPI_FLOOR_USER");
  if (user && *user) {
    const char *domain = getenv("SSPI_FLOOR_DOMAIN"), *password = getenv("SSPI_FLOOR_PASSWORD");
    memset(&identity, 0, sizeof identity);
    identity.User = (unsigned short *)wide(user);
    identity.UserLength = (unsigned long)wcslen((wchar_t *)identity.User);
    identity.Domain = (unsigned short *)wide(domain ? domain : "");
    identity.DomainLength = (unsigned long)wcslen((wchar_t *)identity.Domain);
    identity.Password = (unsigned short *)wide(password ? password : "");
    identity.PasswordLength = (unsigned long)wcslen((wchar_t *)identity.Password);
    identity.Flags = SEC_WINNT_AUTH_IDENTITY_UNICODE;
    auth = &identity;
  }
  SECURITY_STATUS st = AcquireCredentialsHandleW(NULL, (wchar_t *)package, SECPKG_CRED_OUTBOUND, NULL, auth, NULL, NULL, client, &expiry);
  if (auth) {
    SecureZeroMemory(identity.Password, identity.PasswordLength * sizeof(wchar_t));
    free(identity.User);
    free(identity.Domain);
    free(identity.Password);
  }
  if (st != SEC_E_OK) return fail("AcquireCredentialsHandle (outbound)", st);
  st = AcquireCredentialsHandleW(NULL, (wchar_t *)package, SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, server, &expiry);
  if (st != SEC_E_OK) return fail("AcquireCredentialsHandle (inbound)", st);
  return 0;
}

/* One in-process handshake; the established contexts are left in *c and *s (the caller deletes them). */
static int handshake(CredHandle *client, CredHandle *server, wchar_t *target, CtxtHandle *c, CtxtHandle *s) {
  static unsigned char toServer[TOKEN_BYTES], toClient[TOKEN_BYTES];
  ULONG attr, fromServer = 0;
  TimeStamp expiry;
  int clientDone = 0, serverDone = 0, haveServer = 0;
  for (int leg = 0; leg < MAX_LEGS; leg++) {
    SecBuffer in = { fromServer, SECBUFFER_TOKEN, toClient };
    SecBufferDesc inDesc = { SECBUFFER_VERSION, 1, &in };
    SecBuffer out = { TOKEN_BYTES, SECBUFFER_TOKEN, toServer };
    SecBufferDesc outDesc = { SECBUFFER_VERSION, 1, &out };
    SECURITY_STATUS st = InitializeSecurityContextW(client, leg ? c : NULL, target, ISC_FLAGS, 0, SECURITY_NATIVE_DREP,
                                                    leg ? &inDesc : NULL, 0, c, &outDesc, &attr, &expiry);
    if (st != SEC_I_CONTINUE_NEEDED && st != SEC_E_OK) return fail("InitializeSecurityContext", st);
    clientDone = st == SEC_E_OK;
    if (out.cbBuffer == 0) break;

    SecBuffer in2 = { out.cbBuffer, SECBUFFER_TOKEN, toServer };
    SecBufferDesc inDesc2 = { SECBUFFER_VERSION, 1, &in2 };
    SecBuffer out2 = { TOKEN_BYTES, SECBUFFER_TOKEN, toClient };
    SecBufferDesc outDesc2 = { SECBUFFER_VERSION, 1, &out2 };
    st = AcceptSecurityContext(server, haveServer ? s : NULL, &inDesc2, ASC_FLAGS, SECURITY_NATIVE_DREP, s, &outDesc2, &attr, &expiry);
    if (st != SEC_I_CONTINUE_NEEDED && st != SEC_E_OK) return fail("AcceptSecurityContext", st);
    haveServer = 1;
    serverDone = st == SEC_E_OK;
    fromServer = out2.cbBuffer;
    if (fromServer == 0) break;
  }
  if (!clientDone || !serverDone) return fail("handshake (not complete)", 0);
  return 0;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int run_handshakes(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: floor.exe handshake <package> <seconds> <output file> <target name or ->\n");
    return 1;
  }
  wchar_t *package = wide(argv[2]);
  double seconds = atof(argv[3]);
  wchar_t *target = strcmp(argv[5], "-") ? wide(argv[5]) : NULL;
  CredHandle client, server;
  if (acquire(package, &client, &server)) return 1;
  size_t capacity = 1024;
  double *ms = malloc(capacity * sizeof(double));
  if (!ms) return fail("malloc", 0);
  double start = now_seconds(), last = start, elapsed;
  long long done = 0;
  do {
    CtxtHandle c, s;
    if (handshake(&client, &server, target, &c, &s)) return 1;
    DeleteSecurityContext(&c);
    DeleteSecurityContext(&s);
    double t = now_seconds();
    if ((size_t)done == capacity && !(ms = realloc(ms, (capacity *= 2) * sizeof(double)))) return fail("realloc", 0);
    ms[done++] = (t - last) * 1000;
    last = t;
    elapsed = t - start;
  } while (elapsed < seconds);
  FreeCredentialsHandle(&client);
  FreeCredentialsHandle(&server);
  qsort(ms, (size_t)done, sizeof(double), by_value);
  FILE *out = fopen(argv[4], "w");
  if (!out) return fail("fopen", 0);
  fprintf(out, "%lld %.6f %.4f %.4f\n", done, elapsed, ms[done / 2], ms[done - 1]);
  free(ms);
  fclose(out);
  return 0;
}

/* One message operation's buffers, on the established client (c) and server (s) contexts. */
struct message_run {
  CtxtHandle *c, *s;
  SecPkgContext_Sizes sizes;
  ULONG size, trailer;
  unsigned char *plain, *data, *token, *padding;
};

/* MakeSignature on the client, VerifySignature on the server; *what names the call that failed. */
static SECURITY_STATUS sign_once(struct message_run *r, const char **what) {
  SecBuffer m[2] = { { r->size, SECBUFFER_DATA, r->plain }, { r->sizes.cbMaxSignature, SECBUFFER_TOKEN, r->token } };
  SecBufferDesc desc = { SECBUFFER_VERSION, 2, m };
  ULONG qop;
  *what = "MakeSignature";
  SECURITY_STATUS st = MakeSignature(r->c, 0, &desc, 0);
  if (st != SEC_E_OK) return st;
  *what = "VerifySignature";
  return VerifySignature(r->s, &desc, 0, &qop);
}

/* The plaintext copied into DATA, EncryptMessage on the client, DecryptMessage (TOKEN + DATA) on the server. */
static SECURITY_STATUS seal_once(struct message_run *r, const char **what) {
  memcpy(r->data, r->plain, r->size);
  SecBuffer m[3] = { { r->trailer, SECBUFFER_TOKEN, r->token }, { r->size, SECBUFFER_DATA, r->data },
                     { r->sizes.cbBlockSize, SECBUFFER_PADDING, r->padding } };
  SecBufferDesc desc = { SECBUFFER_VERSION, 3, m };
  ULONG qop;
  *what = "EncryptMessage";
  SECURITY_STATUS st = EncryptMessage(r->c, 0, &desc, 0);
  if (st != SEC_E_OK) return st;
  SecBuffer u[2] = { { m[0].cbBuffer, SECBUFFER_TOKEN, r->token }, { m[1].cbBuffer, SECBUFFER_DATA, r->data } };
  SecBufferDesc udesc = { SECBUFFER_VERSION, 2, u };
  *what = "DecryptMessage";
  return DecryptMessage(r->s, &udesc, 0, &qop);
}

/* Runs `op` for about `seconds` and writes "<name> <size> <operations> <elapsed seconds>". */
static int timed(const char *name, SECURITY_STATUS (*op)(struct message_run *, const char **), struct message_run *r, double seconds, FILE *out) {
  double start = now_seconds(), elapsed;
  long long done = 0;
  do {
    const char *what;
    SECURITY_STATUS st = op(r, &what);
    if (st != SEC_E_OK) return fail(what, st);
    done++;
    elapsed = now_seconds() - start;
  } while (elapsed < seconds);
  fprintf(out, "%s %lu %lld %.6f\n", name, (unsigned long)r->size, done, elapsed);
  return 0;
}

static int run_messages(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: floor.exe message <seconds> <output file> <SPN> <seal trailer bytes> <size>...\n");
    return 1;
  }
  double seconds = atof(argv[2]);
  wchar_t *spn = wide(argv[4]);
  struct message_run r;
  CredHandle client, server;
  CtxtHandle c, s;
  if (acquire(L"Kerberos", &client, &server)) return 1;
  if (handshake(&client, &server, spn, &c, &s)) return 1;
  r.c = &c;
  r.s = &s;
  SECURITY_STATUS st = QueryContextAttributesW(&c, SECPKG_ATTR_SIZES, &r.sizes);
  if (st != SEC_E_OK) return fail("QueryContextAttributes (SECPKG_ATTR_SIZES)", st);
  r.trailer = (ULONG)atol(argv[5]);
  if (r.trailer < r.sizes.cbSecurityTrailer) r.trailer = r.sizes.cbSecurityTrailer;

  FILE *out = fopen(argv[3], "w");
  if (!out) return fail("fopen", 0);
  for (int i = 6; i < argc; i++) {
    r.size = (ULONG)atol(argv[i]);
    r.plain = malloc(r.size + 1);
    r.data = malloc(r.size + 1);
    r.token = malloc(r.trailer + r.sizes.cbMaxSignature);
    r.padding = malloc(r.sizes.cbBlockSize + 1);
    if (!r.plain || !r.data || !r.token || !r.padding) return fail("malloc", 0);
    for (ULONG j = 0; j < r.size; j++) r.plain[j] = (unsigned char)(j * 31 + 1);
    if (timed("sign", sign_once, &r, seconds, out) || timed("seal", seal_once, &r, seconds, out)) return 1;
    if (r.size && memcmp(r.data, r.plain, r.size) != 0) return fail("DecryptMessage (plaintext differs)", 0);
    free(r.plain);
    free(r.data);
    free(r.token);
    free(r.padding);
  }
  fclose(out);
  DeleteSecurityContext(&c);
  DeleteSecurityContext(&s);
  FreeCredentialsHandle(&client);
  FreeCredentialsHandle(&server);
  return 0;
}

/* One SECBUFFER_TOKEN of `size` bytes at `memory`, in a SecBufferDesc of its own. */
static SecBufferDesc *token_desc(SecBufferDesc *d, SecBuffer *b, ULONG size, void *memory) {
  b->cbBuffer = size;
  b->BufferType = SECBUFFER_TOKEN;
  b->pvBuffer = memory;
  d->ulVersion = SECBUFFER_VERSION;
  d->cBuffers = 1;
  d->pBuffers = b;
  return d;
}

static int run_calls(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: floor.exe calls <seconds> <output file> <target name>\n");
    return 1;
  }
  double seconds = atof(argv[2]);
  wchar_t *target = wide(argv[4]);
  CredHandle client, server;
  if (acquire(L"Kerberos", &client, &server)) return 1;
  static unsigned char apReq[TOKEN_BYTES], apRep[TOKEN_BYTES], last[TOKEN_BYTES];
  double spent[4] = { 0, 0, 0, 0 }, start = now_seconds(), t0, t1;
  long long done = 0;
  ULONG attr;
  TimeStamp expiry;
  do {
    CtxtHandle c, s;
    SecBuffer b[5];
    SecBufferDesc d[5];
    t0 = now_seconds();
    SECURITY_STATUS st = InitializeSecurityContextW(&client, NULL, target, ISC_FLAGS, 0, SECURITY_NATIVE_DREP, NULL, 0, &c,
                                                    token_desc(&d[0], &b[0], TOKEN_BYTES, apReq), &attr, &expiry);
    t1 = now_seconds();
    spent[0] += t1 - t0;
    if (st != SEC_I_CONTINUE_NEEDED) return fail("InitializeSecurityContext (AP-REQ)", st);
    st = AcceptSecurityContext(&server, NULL, token_desc(&d[1], &b[1], b[0].cbBuffer, apReq), ASC_FLAGS, SECURITY_NATIVE_DREP, &s,
                               token_desc(&d[2], &b[2], TOKEN_BYTES, apRep), &attr, &expiry);
    t0 = now_seconds();
    spent[1] += t0 - t1;
    if (st != SEC_E_OK) return fail("AcceptSecurityContext", st);
    st = InitializeSecurityContextW(&client, &c, target, ISC_FLAGS, 0, SECURITY_NATIVE_DREP, token_desc(&d[3], &b[3], b[2].cbBuffer, apRep),
                                    0, &c, token_desc(&d[4], &b[4], TOKEN_BYTES, last), &attr, &expiry);
    t1 = now_seconds();
    spent[2] += t1 - t0;
    if (st != SEC_E_OK) return fail("InitializeSecurityContext (AP-REP)", st);
    DeleteSecurityContext(&c);
    DeleteSecurityContext(&s);
    t0 = now_seconds();
    spent[3] += t0 - t1;
    done++;
  } while (t0 - start < seconds);
  FreeCredentialsHandle(&client);
  FreeCredentialsHandle(&server);
  FILE *out = fopen(argv[3], "w");
  if (!out) return fail("fopen", 0);
  fprintf(out, "%lld %.2f %.2f %.2f %.2f\n", done, spent[0] * 1e6 / done, spent[1] * 1e6 / done, spent[2] * 1e6 / done, spent[3] * 1e6 / done);
  fclose(out);
  return 0;
}

static SIZE_T working_set(void) {
  PROCESS_MEMORY_COUNTERS pmc;
  return K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc) ? pmc.WorkingSetSize : 0;
}

static int run_rss(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: floor.exe rss <count> <output file> <target name>\n");
    return 1;
  }
  long long count = atoll(argv[2]);
  wchar_t *target = wide(argv[4]);
  CredHandle client, server;
  if (acquire(L"Kerberos", &client, &server)) return 1;
  SIZE_T readings[3];
  for (long long i = -2000, r = 0; i <= count; i++) {
    if (i == 0 || i == count / 2 || i == count) readings[r++] = working_set();
    if (i == count) break;
    CtxtHandle c, s;
    if (handshake(&client, &server, target, &c, &s)) return 1;
    DeleteSecurityContext(&c);
    DeleteSecurityContext(&s);
  }
  FreeCredentialsHandle(&client);
  FreeCredentialsHandle(&server);
  FILE *out = fopen(argv[3], "w");
  if (!out) return fail("fopen", 0);
  fprintf(out, "%llu %llu %llu\n", (unsigned long long)readings[0], (unsigned long long)readings[1], (unsigned long long)readings[2]);
  fclose(out);
  return 0;
}

int main(int argc, char **argv) {
  QueryPerformanceFrequency(&frequency);
  if (argc > 1 && strcmp(argv[1], "handshake") == 0) return run_handshakes(argc, argv);
  if (argc > 1 && strcmp(argv[1], "message") == 0) return run_messages(argc, argv);
  if (argc > 1 && strcmp(argv[1], "rss") == 0) return run_rss(argc, argv);
  if (argc > 1 && strcmp(argv[1], "calls") == 0) return run_calls(argc, argv);
  fprintf(stderr, "usage: floor.exe handshake|message|rss|calls ...\n");
  return 1;
}
