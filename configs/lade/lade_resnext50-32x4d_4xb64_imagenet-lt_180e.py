# LADE (Hong et al., CVPR 2021): cross-entropy on f(x) + log pi plus alpha * LADER (LADELoss); tested with f(x) +
# log pi_t (LogitAdjustedClsHead, tau=0; pi_t uniform unless target_prior is given, e.g.
# --cfg-options model.head.target_prior=PATH with a class_stats JSON or a "path label" list of the target split).
# ResNeXt-50 (32x4d) on ImageNet-LT, the official run (hyperconnect/LADE README command and
# config/ImageNet_LT/lade.yaml): alpha 0.05, lambda 0.5, a total batch of 256 (DataParallel on 4 GPUs; LADER on the
# whole batch: LADELoss(sync=True) gathers the ranks), SGD lr 0.05, momentum 0.9, wd 5e-4, cosine to 0 per epoch,
# 180 epochs of floor(N / 256) steps. tools/dist_train.sh THIS_CONFIG 4
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(
    type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=0.0, target_prior=None,
    loss=dict(_delete_=True, type='LADELoss', class_stats={{_base_.class_stats}}, alpha=0.05, remine_lambda=0.5)))
max_epochs = 180
train_dataloader = dict(drop_last=True)  # floor(N / B) iterations per epoch, as the official loop
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = dict(T_max=max_epochs, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=256)
