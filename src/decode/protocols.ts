/**
 * IANA protocol keywords (lower case, as in the IANA registry and /etc/protocols), indexed by protocol number.
 * Numbers without a keyword (61, 63, 68, 99, 114: "any ..." entries; 146-252 unassigned) give null.
 */
const KEYWORDS =
  'hopopt icmp igmp ggp ipv4 st tcp cbt egp igp bbn-rcc-mon nvp-ii pup argus emcon xnet chaos udp mux dcn-meas ' +
  'hmp prm xns-idp trunk-1 trunk-2 leaf-1 leaf-2 rdp irtp iso-tp4 netblt mfe-nsp merit-inp dccp 3pc idpr xtp ddp ' +
  'idpr-cmtp tp++ il ipv6 sdrp ipv6-route ipv6-frag idrp rsvp gre dsr bna esp ah i-nlsp swipe narp min-ipv4 tlsp ' +
  'skip ipv6-icmp ipv6-nonxt ipv6-opts - cftp - sat-expak kryptolan rvd ippc - sat-mon visa ipcv cpnx cphb wsn ' +
  'pvp br-sat-mon sun-nd wb-mon wb-expak iso-ip vmtp secure-vmtp vines iptm nsfnet-igp dgp tcf eigrp ospf ' +
  'sprite-rpc larp mtp ax.25 ipip micp scc-sp etherip encap - gmtp ifmp pnni pim aris scps qnx a/n ipcomp snp ' +
  'compaq-peer ipx-in-ip vrrp pgm - l2tp ddx iatp stp srp uti smp sm ptp isis fire crtp crudp sscopmce iplt sps ' +
  'pipe sctp fc rsvp-e2e-ignore mobility-header udplite mpls-in-ip manet hip shim6 wesp rohc ethernet aggfrag nsh';

const NAMES: (string | null)[] = KEYWORDS.split(' ').map((k) => (k === '-' ? null : k));

/** The IANA keyword of a protocol number (`tcp` for 6), or null when the number has none. */
export function protocolName(protocol: number): string | null {
  return NAMES[protocol] ?? null;
}
