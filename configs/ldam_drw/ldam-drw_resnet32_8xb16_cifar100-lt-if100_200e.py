# LDAM-DRW (Cao et al., NeurIPS 2019): LDAM loss (max_m 0.5, s 30) on a cosine classifier,
# class-balanced re-weighting (beta 0.9999) deferred to a late epoch by DRWHook.
# ResNet-32 on CIFAR-100-LT (imbalance factor 100), the LDAM-DRW 200-epoch recipe of configs/baseline.
# tools/dist_train.sh THIS_CONFIG 8   (or one GPU: --cfg-options train_dataloader.batch_size=128)
_base_ = ['../_base_/models/resnet32_cifar_lt.py', '../_base_/datasets/cifar100_lt.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(_delete_=True, type='CosineClsHead', num_classes={{_base_.num_classes}}, in_channels=64,
                        scale=1.0,  # LDAM applies s=30 inside the loss, as the official code
                        loss=dict(type='LDAMLoss', class_stats={{_base_.class_stats}}, max_m=0.5, s=30.0)))
custom_hooks = [dict(type='DRWHook', milestone=160, beta=0.9999)]
