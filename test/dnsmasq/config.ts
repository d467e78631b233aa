/** Prints the dnsmasq configuration for the shared test zone (used by run.sh). */
import { dnsmasqConfig } from './zone.ts';

process.stdout.write(dnsmasqConfig());
