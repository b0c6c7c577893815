import { native } from '../../lib/native';

/**
 * The Wine version when secur32 is Wine's, else null (Microsoft's). Tests use it where Wine's
 * secur32 is known to answer differently from Microsoft's (see ../shared/notes/linux-rig.md), and
 * then assert Wine's exact status rather than skipping.
 */
export function wineVersion(): string | null {
  return native().hostInfo().wine;
}
