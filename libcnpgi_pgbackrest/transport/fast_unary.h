// One asynchronous unary call of a fast method, answered inline on the completion-queue thread.
#pragma once

#include <functional>
#include <memory>

#include <grpcpp/grpcpp.h>

#include "cnpgi_pgbackrest/transport/fast_methods.h"

namespace cnpgi_pgbackrest {

template <class Req, class Resp>
class FastUnary final : public FastCall {
 public:
  struct Method {
    // The generated service's RequestAsyncUnary for this method, bound to its index and queue.
    std::function<void(grpc::ServerContext*, Req*, grpc::ServerAsyncResponseWriter<Resp>*, void* tag)> request;
    // The synchronous body (no ServerContext: fast methods do not look at it).
    std::function<grpc::Status(const Req&, Resp*)> answer;
  };

  // Waits for the first call of the method; each call then waits for the next before answering.
  static void Arm(std::shared_ptr<const Method> method) { new FastUnary(std::move(method)); }

  void Proceed(bool ok) override {
    // !ok: the server is shutting down and the call never came; answered_: the answer has gone.
    if (!ok || answered_) {
      delete this;
      return;
    }
    Arm(method_);
    answered_ = true;
    grpc::Status status = method_->answer(request_, &response_);
    writer_.Finish(response_, status, this);
  }

 private:
  explicit FastUnary(std::shared_ptr<const Method> method) : method_(std::move(method)) {
    method_->request(&context_, &request_, &writer_, this);
  }

  std::shared_ptr<const Method> method_;
  grpc::ServerContext context_;
  Req request_;
  Resp response_;
  grpc::ServerAsyncResponseWriter<Resp> writer_{&context_};
  bool answered_ = false;
};

// The generated services' protected RequestAsyncUnary<Req>, which an adapter names as
// &Adapter::RequestAsyncUnary<Req> (the protected access is checked where it is named).
template <class Req>
using RequestAsyncUnaryFn = void (grpc::Service::*)(int, grpc::ServerContext*, Req*,
                                                    grpc::internal::ServerAsyncStreamingInterface*,
                                                    grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);

// Arms method number `index` of service (the order of its rpc lines in protos/) on cq, answered
// by the adapter's synchronous body `answer` (called without a ServerContext).
template <class Service, class Req, class Resp>
void ArmFastUnary(Service* service, grpc::ServerCompletionQueue* cq, int index, RequestAsyncUnaryFn<Req> request,
                  grpc::Status (Service::*answer)(grpc::ServerContext*, const Req*, Resp*)) {
  using Call = FastUnary<Req, Resp>;
  Call::Arm(std::make_shared<const typename Call::Method>(typename Call::Method{
      [service, cq, index, request](grpc::ServerContext* c, Req* r, grpc::ServerAsyncResponseWriter<Resp>* w,
                                    void* tag) { (service->*request)(index, c, r, w, cq, cq, tag); },
      [service, answer](const Req& r, Resp* out) { return (service->*answer)(nullptr, &r, out); }}));
}

}  // namespace cnpgi_pgbackrest
