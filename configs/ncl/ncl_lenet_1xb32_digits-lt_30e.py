# NCL (Li et al., CVPR 2022) on Digits-LT (CPU demo): 3 independent LeNet-5s (a 120-d feature each, a linear
# classifier with bias), NCLLoss with hard category mining of 3 of the 10 classes (about 30%, as the official
# HCM_N 30 of 100) and NBOD factor 0.6, on the configs/baseline demo schedule (SGD lr 0.05, batch 32, cosine over
# 30 epochs). python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first;
# python tools/train.py THIS_CONFIG
_base_ = ['./_base_/ncl_resnet32_cifar.py', '../_base_/datasets/digits_lt.py', '../_base_/schedules/digits_lt_30e.py',
          '../_base_/default_runtime_cls.py']
model = dict(backbone=dict(_delete_=True, type='LeNet5', num_classes=-1), num_classes={{_base_.num_classes}},
             in_channels=120, loss=dict(class_stats={{_base_.class_stats}}, hcm_n=3))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10, max_keep_ckpts=1))
log_processor = dict(window_size=5)
