/** Usage text of the config commands; its own module so `tsmesh proxy` does not load the YAML parser to print help. */
import { KINDS } from '../control/config/kinds.js';

export const MESH_USAGE = `  tsmesh apply -f FILE|DIR|- [-f ...] [--control URL]
      Validate and store mesh config (all or nothing); prints created / configured / unchanged.
  tsmesh get KIND [NAME] [-n NS] [-o yaml|json] [--control URL]
      KIND: ${Object.keys(KINDS).join(', ')} (or plural, or se, we, wg, dr, vs, mc, pa, ap, ra; any case). Lists all namespaces unless -n.
  tsmesh delete -f FILE|DIR|- | KIND NAME [-n NS] [--control URL]
  tsmesh analyze [-f FILE|DIR ...] [--control URL]
      Cross-resource checks on the control plane's config, or offline on files with -f.
`;

export const DASHBOARD_USAGE = `  tsmesh dashboard [--control URL] [--no-open]
      Open the live mesh dashboard served by the control plane (URL/dashboard): the service graph
      with requests/s, error rate, p99 and mTLS per edge, sidecar sync status, the config per
      service and recent failures with their response flags in words. Prints the address; opens a
      browser when there is a display, unless --no-open.
`;
