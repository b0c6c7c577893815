import { native } from '../native';

/** SSPI handles the addon holds now, and package buffers it has freed (process-wide). */
export interface HandleFigures {
  /** Credentials from AcquireCredentialsHandle not yet freed. */
  credentials: number;
  /** Contexts a call created and nobody has deleted yet. */
  contexts: number;
  /** FreeContextBuffer calls the addon made on memory packages allocated, since the process started. */
  contextBuffersFreed: number;
  /** HCERTSTORE references held (open store objects, and stores held by calls in flight) (CertCloseStore). */
  certificateStores: number;
  /** PCCERT_CONTEXT references held (certificate objects, and certificates held by calls in flight) (CertFreeCertificateContext). */
  certificateContexts: number;
}

interface DiagnosticsNative {
  handleFigures(): Omit<HandleFigures, 'certificateStores' | 'certificateContexts'>;
  certificateFigures(): Pick<HandleFigures, 'certificateStores' | 'certificateContexts'>;
}

/**
 * Counts of the SSPI handles and certificate references the addon holds at this moment, process-wide
 * (every worker thread, and calls in flight), and of the package buffers it has released with
 * FreeContextBuffer. A diagnostic: tests use it to prove that nothing leaks and that package memory is
 * freed.
 */
export function handleFigures(): HandleFigures {
  const n = native() as unknown as DiagnosticsNative;
  return { ...n.handleFigures(), ...n.certificateFigures() };
}
