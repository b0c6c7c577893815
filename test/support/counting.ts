import { ClientContext } from '../../lib/context';
import { SecBuffer, SecurityContextResult } from '../../lib/raw';

/** A client context that records the output token size supplied to each SSPI call (the raw boundary). */
export class CountingClient extends ClientContext {
  suppliedSizes: number[] = [];

  protected invoke(input: SecBuffer[] | null, output: SecBuffer[], async: boolean): SecurityContextResult | Promise<SecurityContextResult> {
    this.suppliedSizes.push(output[0].cbBuffer ?? 0);
    return super.invoke(input, output, async);
  }
}
