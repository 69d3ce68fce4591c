"""Kubernetes GPU scanner (`k8s.gpu`): cloud and on-prem clusters through kubeconfig contexts.

Config section `kubernetes` (all optional):

    kubernetes:
      onprem_gpu_hourly_usd: 1.80        # GPU-hour rate for nodes no cloud catalog prices
      onprem_price_date: "2026-10-01"    # shown with that rate
      gpu_hourly_usd_by_label:           # first match wins, before the catalogs
        - {label: nvidia.com/gpu.product, value: NVIDIA-H100-80GB-HBM3, gpu_hourly_usd: 2.90}
      prometheus_urls: {my-context: "http://prometheus.monitoring:9090"}  # per context
      dcgm_selector: 'cluster="prod"'    # label matchers added to DCGM_FI_DEV_GPU_UTIL

Nodes may also carry their own rate in the `aifinops.io/gpu-hourly-usd` label.
"""
