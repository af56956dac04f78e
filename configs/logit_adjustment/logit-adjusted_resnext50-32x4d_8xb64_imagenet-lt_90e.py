# Logit-adjusted loss (Menon et al., ICLR 2021): cross-entropy on z + tau * log pi, tau = 1.
# ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe of
# configs/baseline). tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnext50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=1.0, class_stats={{_base_.class_stats}})))
