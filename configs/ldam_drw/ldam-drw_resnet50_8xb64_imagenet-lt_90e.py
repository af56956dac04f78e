# LDAM-DRW (Cao et al., NeurIPS 2019): LDAM loss (max_m 0.5, s 30) on a cosine classifier,
# class-balanced re-weighting (beta 0.9999) deferred to a late epoch by DRWHook.
# ResNet-50 on ImageNet-LT, 90 epochs (the classifier-balancing joint recipe of configs/baseline).
# tools/dist_train.sh THIS_CONFIG 8
_base_ = ['../_base_/models/resnet50_lt.py', '../_base_/datasets/imagenet_lt.py',
          '../_base_/schedules/imagenet_lt_90e.py', '../_base_/default_runtime_cls.py']
# DRW from epoch 72 of 90 (80% of training, RIDE's rule; LDAM-DRW's CIFAR recipe: 160 of 200).
model = dict(head=dict(_delete_=True, type='CosineClsHead', num_classes={{_base_.num_classes}}, in_channels=2048,
                        scale=1.0,  # LDAM applies s=30 inside the loss, as the official code
                        loss=dict(type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0)))
custom_hooks = [dict(type='DRWHook', milestone=72, beta=0.9999)]
