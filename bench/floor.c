/*
 * The benchmark's floor (`npm run bench`): in-process Kerberos handshakes calling secur32 directly, one
 * thread, with the same request flags the library uses by default (DEFAULT_ISC_REQ / DEFAULT_ASC_REQ of
 * lib/context.ts) and caller-supplied 12,000-byte token buffers (the library's default allocation mode).
 *
 *   floor.exe <SPN> <seconds> <output file>
 *
 * Runs handshakes (ISC, ASC, ISC with the AP-REP, then both DeleteSecurityContext) for about <seconds>
 * and writes one line to <output file>: "<handshakes> <elapsed seconds>" (node.exe under Wine cannot
 * read a child's pipe, so the bench reads a file). Exit 0, or 1 with the failing call on stderr.
 * Built by scripts/bench.sh with MinGW-w64 (x86_64-w64-mingw32-gcc ... -lsecur32).
 */
#define SECURITY_WIN32
#include <windows.h>
#include <sspi.h>
#include <stdio.h>
#include <stdlib.h>

#define TOKEN_BYTES 12000

static const ULONG ISC_FLAGS = ISC_REQ_MUTUAL_AUTH | ISC_REQ_REPLAY_DETECT | ISC_REQ_SEQUENCE_DETECT |
                               ISC_REQ_CONFIDENTIALITY | ISC_REQ_INTEGRITY | ISC_REQ_CONNECTION;
static const ULONG ASC_FLAGS = ASC_REQ_REPLAY_DETECT | ASC_REQ_SEQUENCE_DETECT | ASC_REQ_CONFIDENTIALITY |
                               ASC_REQ_INTEGRITY | ASC_REQ_CONNECTION;

static int fail(const char *what, SECURITY_STATUS status) {
  fprintf(stderr, "floor: %s returned 0x%08lx\n", what, (unsigned long)status);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: floor.exe <SPN> <seconds> <output file>\n");
    return 1;
  }
  wchar_t spn[512];
  if (!MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, spn, 512)) return fail("MultiByteToWideChar", 0);
  double seconds = atof(argv[2]);

  CredHandle client, server;
  TimeStamp expiry;
  SECURITY_STATUS st = AcquireCredentialsHandleW(NULL, L"Kerberos", SECPKG_CRED_OUTBOUND, NULL, NULL, NULL, NULL, &client, &expiry);
  if (st != SEC_E_OK) return fail("AcquireCredentialsHandle (outbound)", st);
  st = AcquireCredentialsHandleW(NULL, L"Kerberos", SECPKG_CRED_INBOUND, NULL, NULL, NULL, NULL, &server, &expiry);
  if (st != SEC_E_OK) return fail("AcquireCredentialsHandle (inbound)", st);

  static unsigned char apReq[TOKEN_BYTES], apRep[TOKEN_BYTES], last[TOKEN_BYTES];
  LARGE_INTEGER frequency, start, now;
  QueryPerformanceFrequency(&frequency);
  QueryPerformanceCounter(&start);
  long long done = 0;
  do {
    CtxtHandle c, s;
    ULONG attr;
    SecBuffer out1 = { TOKEN_BYTES, SECBUFFER_TOKEN, apReq };
    SecBufferDesc outDesc1 = { SECBUFFER_VERSION, 1, &out1 };
    st = InitializeSecurityContextW(&client, NULL, spn, ISC_FLAGS, 0, SECURITY_NATIVE_DREP, NULL, 0, &c, &outDesc1, &attr, &expiry);
    if (st != SEC_I_CONTINUE_NEEDED && st != SEC_E_OK) return fail("InitializeSecurityContext (AP-REQ)", st);

    SecBuffer in2 = { out1.cbBuffer, SECBUFFER_TOKEN, apReq };
    SecBufferDesc inDesc2 = { SECBUFFER_VERSION, 1, &in2 };
    SecBuffer out2 = { TOKEN_BYTES, SECBUFFER_TOKEN, apRep };
    SecBufferDesc outDesc2 = { SECBUFFER_VERSION, 1, &out2 };
    st = AcceptSecurityContext(&server, NULL, &inDesc2, ASC_FLAGS, SECURITY_NATIVE_DREP, &s, &outDesc2, &attr, &expiry);
    if (st != SEC_E_OK) return fail("AcceptSecurityContext", st);

    SecBuffer in3 = { out2.cbBuffer, SECBUFFER_TOKEN, apRep };
    SecBufferDesc inDesc3 = { SECBUFFER_VERSION, 1, &in3 };
    SecBuffer out3 = { TOKEN_BYTES, SECBUFFER_TOKEN, last };
    SecBufferDesc outDesc3 = { SECBUFFER_VERSION, 1, &out3 };
    st = InitializeSecurityContextW(&client, &c, spn, ISC_FLAGS, 0, SECURITY_NATIVE_DREP, &inDesc3, 0, &c, &outDesc3, &attr, &expiry);
    if (st != SEC_E_OK) return fail("InitializeSecurityContext (AP-REP)", st);

    DeleteSecurityContext(&c);
    DeleteSecurityContext(&s);
    done++;
    QueryPerformanceCounter(&now);
  } while ((double)(now.QuadPart - start.QuadPart) < seconds * (double)frequency.QuadPart);

  FreeCredentialsHandle(&client);
  FreeCredentialsHandle(&server);
  FILE *out = fopen(argv[3], "w");
  if (!out) return fail("fopen", 0);
  fprintf(out, "%lld %.6f\n", done, (double)(now.QuadPart - start.QuadPart) / (double)frequency.QuadPart);
  fclose(out);
  return 0;
}
