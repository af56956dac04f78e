# NCL with its self-supervised feature enhancement on CIFAR-100-LT IF100, the official contrastive run
# (Bazinga699/NCL config/CIFAR/CIFAR100/cifar100_im100_NCL_with_contrastive.yaml: NETWORK.MOCO True, MOCO_DIM 64,
# MOCO_K 1024, MOCO_T 0.2, MA_MODEL_ALPHA 0.999, LOSS.CON_RATIO 1.0; combiner multi_network_default_CON): the recipe of
# ./ncl_resnet32_1xb64_cifar100-lt-if100_400e.py (identical in the yaml) on two views, NCLMoCoClassifier. View 1 (the
# classification view): crop 32 pad 4 + flip + AutoAugment CIFAR10Policy + Cutout 16; view 2 (the key view,
# MULTI_NETWORK_CIFAR_MOCO_AUGPLIS's second transform, PaCo's `sim_cifar`): crop 32 of scale 0.2-1, flip, jitter
# (0.4, 0.4, 0.4, 0.1) p 0.8, grayscale 0.2, blur p 0.5. python tools/train.py THIS_CONFIG
_base_ = ['./ncl_resnet32_1xb64_cifar100-lt-if100_400e.py']
model = dict(type='NCLMoCoClassifier', moco_dim=64, queue_size=1024, temperature=0.2, momentum=0.999, con_ratio=1.0)
# the two-view changes of ../_base_/datasets/cifar100_lt_two_view.py (not a second base: both define the CIFAR data)
data_preprocessor = dict(_delete_=True, type='SelfSupDataPreprocessor', mean={{_base_.data_preprocessor.mean}},
                         std={{_base_.data_preprocessor.std}}, to_rgb={{_base_.data_preprocessor.to_rgb}})
train_pipeline = [
    dict(type='MultiView', num_views=[1, 1], transforms=[{{_base_.cifar_regular_view}}, {{_base_.cifar_sim_view}}]),
    dict(type='PackInputs'),
]
# drop_last as the official loader (the queue takes whole batches)
train_dataloader = dict(drop_last=True, collate_fn=dict(type='default_collate'), dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(collate_fn=dict(type='default_collate'))
test_dataloader = dict(collate_fn=dict(type='default_collate'))
