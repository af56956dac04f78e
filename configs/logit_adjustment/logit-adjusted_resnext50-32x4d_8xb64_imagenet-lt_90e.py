# Logit-adjusted loss (Menon et al., ICLR 2021): cross-entropy on z + tau * log pi, tau = 1.
# ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py with this method. tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(loss=dict(
    _delete_=True, type='LogitAdjustedLoss', tau=1.0, class_stats={{_base_.class_stats}})))
