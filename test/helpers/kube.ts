/** kube-state-metrics alerts as kube-prometheus-stack sends them, for tests of what a message shows. */

/** kubeStateLabels: the 12 labels of a pod alert from kube-state-metrics (most of them shared or noise). */
export function kubeStateLabels(pod: string, alertname = 'KubePodCrashLooping', severity = 'warning'): Record<string, string> {
  return {
    alertname,
    container: 'api',
    endpoint: 'http',
    instance: '10.0.3.7:8080',
    job: 'kube-state-metrics',
    namespace: 'payments',
    pod,
    prometheus: 'monitoring/kube-prometheus-stack-prometheus',
    reason: 'CrashLoopBackOff',
    service: 'kube-prometheus-stack-kube-state-metrics',
    severity,
    uid: `uid-${pod}`,
  }
}
