# Post-hoc logit adjustment (Menon et al., ICLR 2021): train with plain cross-entropy, predict with
# argmax z - tau * log pi, tau = 1 (LogitAdjustedClsHead; the same checkpoint can be re-tested with another tau).
# ResNeXt-50 (32x4d) on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe):
# configs/baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py with this method. tools/dist_train.sh THIS_CONFIG 8
_base_ = '../baseline/resnext50-32x4d_8xb64_imagenet-lt_90e.py'
model = dict(head=dict(type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=1.0))
