# Post-hoc logit adjustment (Menon et al., ICLR 2021): train with plain cross-entropy, predict with
# argmax z - tau * log pi, tau = 1 (LogitAdjustedClsHead; the same checkpoint can be re-tested with another tau).
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe of configs/baseline).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=1.0))
