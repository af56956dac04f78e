# LADE (Hong et al., CVPR 2021): cross-entropy on f(x) + log pi plus alpha * LADER (LADELoss); tested with f(x) +
# log pi_t (LogitAdjustedClsHead, tau=0; pi_t uniform unless target_prior is given, e.g.
# --cfg-options model.head.target_prior=[...] with one count per class). ResNet-32 on CIFAR-100-LT (imbalance factor
# 100), the official run (hyperconnect/LADE README command and config/CIFAR100_LT/lade.yaml): alpha 0.1, lambda 0.01,
# one GPU x 256, SGD lr 0.2, momentum 0.9, wd 5e-4, 200 epochs of floor(N / 256) steps, linear warm-up from x1/3 over
# 5 epochs, x0.01 at epochs 120 and 160 (1-indexed). python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(
    type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=0.0, target_prior=None,
    loss=dict(_delete_=True, type='LADELoss', class_stats={{_base_.class_stats}}, alpha=0.1, remine_lambda=0.01)))
train_dataloader = dict(batch_size=256, drop_last=True)  # floor(N / B) iterations per epoch, as the official loop
optim_wrapper = dict(optimizer=dict(lr=0.2, weight_decay=5e-4))
# The official WarmupMultiStepLR is stepped at the start of each epoch from last_epoch 1, so 0-indexed epoch e runs
# with warm-up factor 1/3 + (2/3) (e + 1) / 5 (7/15, 9/15, 11/15, 13/15, then 1) and is x0.01 from e = 119 and
# x0.0001 from e = 159.
param_scheduler = [
    dict(type='LinearLR', start_factor=7 / 15, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[119, 159], gamma=0.01, by_epoch=True, begin=0, end=200),
]
auto_scale_lr = dict(base_batch_size=256)
