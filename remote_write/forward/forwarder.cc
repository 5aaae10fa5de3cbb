#include "remote_write/forward/forwarder.h"

#include "http/client.h"
#include "remote_write/forward/batch_sender.h"
#include "remote_write/forward/target.h"

namespace tsvault::forward {

std::vector<std::string> Forwarder::ConsumerNames(const std::vector<TargetConfig>& targets) {
  std::vector<std::string> names;
  for (const TargetConfig& target : targets) names.push_back(target.name);
  return names;
}

Forwarder::Forwarder() = default;

Forwarder::~Forwarder() { Stop(); }

Status Forwarder::Create(storage::DB* db, std::vector<TargetConfig> targets, ForwarderOptions options,
                         prometheus::Registry* registry, std::unique_ptr<Forwarder>* out) {
  std::unique_ptr<Forwarder> forwarder(new Forwarder());
  for (TargetConfig& config : targets) {
    TargetUrl url;
    Status s = SplitTargetUrl(config.url, &url);
    if (!s.ok()) return s;
    // TLS files are read now, so a bad one stops the start with a clear error.
    std::unique_ptr<http::Client> probe;
    s = http::Client::Create(url.base, ClientTlsOptions(config.client.tls), &probe);
    if (!s.ok()) return Status::InvalidArgument("target " + config.name + ": " + s.message());
    std::vector<std::pair<std::string, std::string>> headers;
    s = TargetHeaders(config, &headers);
    if (!s.ok()) return s;
    std::unique_ptr<Relabeler> relabeler;
    s = Relabeler::Create(config.write_relabel_configs, &relabeler);
    if (!s.ok()) return Status::InvalidArgument("target " + config.name + ": " + s.message());
    forwarder->targets_.push_back(std::make_unique<Target>(db, std::move(config), std::move(relabeler), std::move(url),
                                                           std::move(headers), options, registry));
  }
  *out = std::move(forwarder);
  return Status::OK();
}

void Forwarder::Start() {
  for (auto& target : targets_) target->Start();
}

void Forwarder::Stop() {
  for (auto& target : targets_) target->Stop();
}

std::vector<TargetStatus> Forwarder::Targets() const {
  std::vector<TargetStatus> out;
  for (const auto& target : targets_) out.push_back(target->status());
  return out;
}

}  // namespace tsvault::forward
