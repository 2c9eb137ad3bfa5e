#!/bin/sh
# Render the gateway templates exactly as devstack does locally: only the listed
# variables are substituted, nginx's own $variables are left alone.
set -eu
vars='${GATEWAY_LISTEN} ${GATEWAY_STATUS_LISTEN} ${GATEWAY_RUN_DIR} ${GATEWAY_WORKERS} ${GATEWAY_MAX_BODY} ${GATEWAY_ACCESS_LOG} ${GATEWAY_DOCS_DIR}
${AUTH_RATE_LIMIT} ${AUTH_RATE_BURST} ${AUTH_UPSTREAM} ${PROJECTS_UPSTREAM} ${COMMERCE_UPSTREAM} ${ANALYTICS_UPSTREAM}
${WEBHOOKS_UPSTREAM}'
cd /opt/gateway
for source in $(find . -type f ! -name Dockerfile ! -name docker-entrypoint.sh ! -path './openapi/*'); do
  case "$source" in
    *.template) target="/etc/nginx/${source%.template}"; mkdir -p "$(dirname "$target")"; envsubst "$vars" < "$source" > "$target" ;;
    *) target="/etc/nginx/$source"; mkdir -p "$(dirname "$target")"; cp "$source" "$target" ;;
  esac
done
# The load balancers trusted to name the client in X-Forwarded-For (as devstack's gateway.trusted_proxies does).
{
  echo "# Generated from GATEWAY_TRUSTED_PROXIES."
  for address in ${GATEWAY_TRUSTED_PROXIES:-}; do echo "set_real_ip_from $address;"; done
  if [ -n "${GATEWAY_TRUSTED_PROXIES:-}" ]; then printf 'real_ip_header X-Forwarded-For;\nreal_ip_recursive on;\n'; fi
} > /etc/nginx/backoffice/trusted_proxies.conf
exec nginx -c /etc/nginx/nginx.conf -g 'daemon off;'
